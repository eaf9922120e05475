//! `acme-csv-datasource`: query the CSV files of a directory on the Grafana
//! server.
//!
//! * **Settings** (`jsonData`): `{"directory": "/path/to/csv"}`; each data
//!   source instance is built from its own settings and rebuilt when they
//!   change.
//! * **Queries**, routed by query type ([`QueryTypeMux`]):
//!   `table` (also the fallback for an empty or unknown type) answers `{"file": "x.csv"}` with the file
//!   as a frame; `summary` answers with min, max, mean and count of every
//!   numeric column.
//! * **Resources**, an axum `Router`: `GET /files` lists the CSV files,
//!   `GET /files/{name}` describes one (columns with types, row count).
//! * **Stream** `replay/<file>`: the file's rows, one frame per row every
//!   50 ms, then the stream ends.
//! * **Health**: whether the directory can be read, and how many CSV files
//!   it holds.

mod csv;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use grafana_plugin::axum::extract::{Path as UrlPath, State};
use grafana_plugin::axum::http::StatusCode;
use grafana_plugin::axum::routing::get;
use grafana_plugin::axum::{Json, Router};
use grafana_plugin::bytes::Bytes;
use grafana_plugin::prelude::*;
use grafana_plugin::resource::HttpResourceHandler;
use grafana_plugin::serde::Deserialize;
use grafana_plugin::{serde_json, tokio};

use crate::csv::{ColumnType, Table};

/// The plugin id in plugin.json.
const PLUGIN_ID: &str = "acme-csv-datasource";

/// The interval between two rows of a replay stream.
const REPLAY_INTERVAL: Duration = Duration::from_millis(50);

/// The data source settings Grafana stores in `jsonData`.
#[derive(Debug, Deserialize)]
#[serde(crate = "grafana_plugin::serde")]
struct Settings {
    directory: PathBuf,
}

/// The files one data source instance may read.
#[derive(Debug)]
struct CsvDirectory {
    root: PathBuf,
}

impl CsvDirectory {
    /// The path of file `name`, which must be a plain `*.csv` file name: no
    /// query may read outside the configured directory.
    fn path_of(&self, name: &str) -> Result<PathBuf, Error> {
        let plain = !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.');
        if !plain || !name.ends_with(".csv") {
            return Err(Error::plugin(format!(
                "{name:?} is not the name of a CSV file"
            )));
        }
        Ok(self.root.join(name))
    }

    async fn read(&self, name: &str) -> Result<Table, Error> {
        let path = self.path_of(name)?;
        let text = tokio::fs::read_to_string(&path)
            .await
            .map_err(|error| Error::plugin(format!("{name}: {error}")))?;
        Table::parse(&text)
    }

    /// The CSV files, sorted by name, with their sizes.
    async fn list(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut entries = tokio::fs::read_dir(&self.root).await.map_err(Error::new)?;
        let mut files = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(Error::new)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if self.path_of(&name).is_ok() {
                files.push((name, entry.metadata().await.map_err(Error::new)?.len()));
            }
        }
        files.sort();
        Ok(files)
    }
}

/// A query naming a file.
#[derive(Debug, Deserialize)]
#[serde(crate = "grafana_plugin::serde")]
struct FileQuery {
    file: String,
}

/// A query type answered one query at a time, each with one frame.
trait FrameQuery: Send + Sync {
    /// The frame answering `query`.
    fn answer(&self, query: &DataQuery) -> impl Future<Output = Result<Frame, Error>> + Send;
}

/// Serves a [`FrameQuery`] as a query handler: every query gets its own
/// answer, and a failing query fails alone.
#[derive(Debug, Clone)]
struct EachQuery<Q>(Q);

impl<Q: FrameQuery> QueryDataHandler for EachQuery<Q> {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        let mut response = QueryDataResponse::new();
        for query in &request.queries {
            let answer = self
                .0
                .answer(query)
                .await
                .map_or_else(DataResponse::from_error, DataResponse::from);
            response.insert(query.ref_id.clone(), answer);
        }
        Ok(response)
    }
}

/// Query type `table`: the whole file as a frame.
#[derive(Debug, Clone)]
struct TableQuery(Arc<CsvDirectory>);

impl FrameQuery for TableQuery {
    async fn answer(&self, query: &DataQuery) -> Result<Frame, Error> {
        let FileQuery { file } = query.parse_json()?;
        let table = self.0.read(&file).await?;
        Ok(table.to_frame(&file, &table.schema(), 0..table.rows.len()))
    }
}

/// Query type `summary`: min, max, mean and count of the numeric columns.
#[derive(Debug, Clone)]
struct SummaryQuery(Arc<CsvDirectory>);

impl FrameQuery for SummaryQuery {
    async fn answer(&self, query: &DataQuery) -> Result<Frame, Error> {
        let FileQuery { file } = query.parse_json()?;
        let table = self.0.read(&file).await?;
        let (mut names, mut mins, mut maxes, mut means, mut counts) =
            (vec![], vec![], vec![], vec![], vec![]);
        for (column, column_type) in table.column_types().into_iter().enumerate() {
            if column_type != ColumnType::Number {
                continue;
            }
            let values: Vec<f64> = table
                .rows
                .iter()
                .filter_map(|row| row[column].parse().ok())
                .collect();
            names.push(table.header[column].clone());
            mins.push(values.iter().copied().reduce(f64::min));
            maxes.push(values.iter().copied().reduce(f64::max));
            means.push(
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64),
            );
            counts.push(values.len() as i64);
        }
        Ok(Frame::new(format!("{file} summary"))
            .with_field(Field::new("column", names))
            .with_field(Field::new("min", mins))
            .with_field(Field::new("max", maxes))
            .with_field(Field::new("mean", means))
            .with_field(Field::new("count", counts)))
    }
}

/// The resource API: `GET /files` and `GET /files/{name}`.
fn resources(directory: Arc<CsvDirectory>) -> Router {
    async fn list(
        State(directory): State<Arc<CsvDirectory>>,
    ) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
        let files = directory
            .list()
            .await
            .map_err(|error| (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?;
        let files: Vec<_> = files
            .into_iter()
            .map(|(name, bytes)| serde_json::json!({"name": name, "bytes": bytes}))
            .collect();
        Ok(Json(serde_json::json!({ "files": files })))
    }

    async fn describe(
        State(directory): State<Arc<CsvDirectory>>,
        UrlPath(name): UrlPath<String>,
    ) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
        directory
            .path_of(&name)
            .map_err(|error| (StatusCode::BAD_REQUEST, error.to_string()))?;
        let table = directory
            .read(&name)
            .await
            .map_err(|error| (StatusCode::NOT_FOUND, error.to_string()))?;
        let columns: Vec<_> = table
            .header
            .iter()
            .zip(table.column_types())
            .map(|(name, column_type)| serde_json::json!({"name": name, "type": column_type.as_str()}))
            .collect();
        Ok(Json(
            serde_json::json!({"name": name, "columns": columns, "rows": table.rows.len()}),
        ))
    }

    Router::new()
        .route("/files", get(list))
        .route("/files/{name}", get(describe))
        .with_state(directory)
}

/// Health checks and the replay stream.
#[derive(Debug, Clone)]
struct Diagnostics(Arc<CsvDirectory>);

impl CheckHealthHandler for Diagnostics {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        Ok(match self.0.list().await {
            Ok(files) => CheckHealthResult::ok(format!(
                "{} CSV files in {}",
                files.len(),
                self.0.root.display()
            ))
            .with_json_details(&serde_json::json!({ "files": files.len() }))?,
            Err(error) => {
                CheckHealthResult::error(format!("cannot read {}: {error}", self.0.root.display()))
            }
        })
    }
}

impl StreamHandler for Diagnostics {
    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        let exists = match request
            .path
            .strip_prefix("replay/")
            .map(|file| self.0.path_of(file))
        {
            Some(Ok(path)) => tokio::fs::try_exists(path).await.unwrap_or(false),
            _ => false,
        };
        let status = if exists {
            StreamStatus::Ok
        } else {
            StreamStatus::NotFound
        };
        Ok(SubscribeStreamResponse::with_status(status))
    }

    async fn publish_stream(
        &self,
        _: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        Ok(PublishStreamResponse::new(
            StreamStatus::PermissionDenied,
            Bytes::new(),
        ))
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        mut sender: StreamSender,
    ) -> Result<(), Error> {
        let file = request
            .path
            .strip_prefix("replay/")
            .ok_or_else(|| Error::plugin("unknown stream"))?;
        let table = self.0.read(file).await?;
        let schema = table.schema();
        let mut interval = tokio::time::interval(REPLAY_INTERVAL);
        for row in 0..table.rows.len() {
            interval.tick().await;
            let include = if row == 0 {
                FrameInclude::All
            } else {
                FrameInclude::DataOnly
            };
            sender
                .send_frame(&table.to_frame(file, &schema, row..row + 1), include)
                .await?;
        }
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    grafana_plugin::run(grafana_plugin::datasource::manage(
        PLUGIN_ID,
        |settings, _context| async move {
            let Settings { directory } = settings.parse_json_data()?;
            let directory = Arc::new(CsvDirectory { root: directory });
            let queries = QueryTypeMux::new()
                .with_fallback(EachQuery(TableQuery(directory.clone())))
                .with_handler("table", EachQuery(TableQuery(directory.clone())))
                .with_handler("summary", EachQuery(SummaryQuery(directory.clone())));
            Ok(Plugin::new()
                .with_query_data(queries)
                .with_call_resource(HttpResourceHandler::new(resources(directory.clone())))
                .with_check_health(Diagnostics(directory.clone()))
                .with_stream(Diagnostics(directory)))
        },
        ManageOptions::new().with_build_info(build_info!()),
    ))
}
