//! ConvertObjects: JSON objects moved to the target version.
//!
//! Each object must be a JSON object; its `apiVersion` becomes
//! `<group>/<version>` of the request's target version and everything else
//! is kept. The answer has the request's uid and the objects in request
//! order, each with its content type. If any object is not a JSON object,
//! the answer has no objects and a `Failure` of code 400 naming its index.

use plugin_backend::{
    ConversionHandler, ConversionRequest, ConversionResponse, Error, RawObject, StatusResult,
};
use serde_json::Value;

/// The conversion handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conversion;

impl ConversionHandler for Conversion {
    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, Error> {
        let target = &request.target_version;
        let api_version = format!("{}/{}", target.group, target.version);
        let mut objects = Vec::with_capacity(request.objects.len());
        for (index, object) in request.objects.iter().enumerate() {
            let Ok(Value::Object(mut converted)) = serde_json::from_slice(&object.raw) else {
                let mut response = ConversionResponse::new(request.uid, Vec::new());
                response.result = Some(StatusResult::failure(
                    400,
                    format!("object {index} is not a JSON object"),
                ));
                return Ok(response);
            };
            converted.insert("apiVersion".to_owned(), api_version.clone().into());
            let raw = serde_json::to_vec(&converted).map_err(Error::new)?;
            objects.push(RawObject::new(raw, object.content_type.clone()));
        }
        Ok(ConversionResponse::new(request.uid, objects))
    }
}
