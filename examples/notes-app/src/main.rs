//! `acme-notes-app`: an app plugin whose backend keeps shared notes for
//! each organisation.
//!
//! Grafana runs one app instance per organisation (and rebuilds it when
//! the app's settings change); each instance holds its own notes, so
//! organisations never see each other's. The frontend talks to the backend
//! through resource calls, served here by an axum `Router`:
//!
//! * `GET /notes`: the notes, oldest first;
//! * `POST /notes` with `{"text": "…"}`: adds a note signed by the calling
//!   user, `201 Created`;
//! * `GET /settings`: the app's title from its `jsonData` (`{"title": …}`).
//!
//! The health check reports how many notes the instance holds.

use std::sync::Arc;

use grafana_plugin::axum::extract::{Extension, State};
use grafana_plugin::axum::http::StatusCode;
use grafana_plugin::axum::routing::get;
use grafana_plugin::axum::{Json, Router};
use grafana_plugin::prelude::*;
use grafana_plugin::resource::HttpResourceHandler;
use grafana_plugin::serde::{Deserialize, Serialize};
use grafana_plugin::serde_json;
use grafana_plugin::tokio::sync::RwLock;

/// The plugin id in plugin.json.
const PLUGIN_ID: &str = "acme-notes-app";

/// Longer notes are refused.
const MAX_NOTE_LENGTH: usize = 10_000;

/// The app settings Grafana stores in `jsonData`.
#[derive(Debug, Default, Deserialize)]
#[serde(crate = "grafana_plugin::serde")]
struct AppSettings {
    #[serde(default)]
    title: Option<String>,
}

/// One note.
#[derive(Debug, Clone, Serialize)]
#[serde(crate = "grafana_plugin::serde")]
struct Note {
    id: usize,
    text: String,
    author: String,
}

/// A new note, as posted by the frontend.
#[derive(Debug, Deserialize)]
#[serde(crate = "grafana_plugin::serde")]
struct NewNote {
    text: String,
}

/// One organisation's app instance.
#[derive(Debug)]
struct Notes {
    title: String,
    notes: RwLock<Vec<Note>>,
}

async fn list(State(app): State<Arc<Notes>>) -> Json<Vec<Note>> {
    Json(app.notes.read().await.clone())
}

async fn add(
    State(app): State<Arc<Notes>>,
    Extension(context): Extension<PluginContext>,
    Json(new): Json<NewNote>,
) -> Result<(StatusCode, Json<Note>), (StatusCode, String)> {
    if new.text.trim().is_empty() || new.text.len() > MAX_NOTE_LENGTH {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("a note has 1 to {MAX_NOTE_LENGTH} bytes"),
        ));
    }
    // Backend-initiated calls have no user; sign those as the app itself.
    let author = context
        .user
        .map_or_else(|| PLUGIN_ID.to_owned(), |user| user.login);
    let mut notes = app.notes.write().await;
    let note = Note {
        id: notes.len() + 1,
        text: new.text,
        author,
    };
    notes.push(note.clone());
    Ok((StatusCode::CREATED, Json(note)))
}

async fn settings(State(app): State<Arc<Notes>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "title": app.title }))
}

fn routes(app: Arc<Notes>) -> Router {
    Router::new()
        .route("/notes", get(list).post(add))
        .route("/settings", get(settings))
        .with_state(app)
}

/// The health check of one instance.
#[derive(Debug, Clone)]
struct Health(Arc<Notes>);

impl CheckHealthHandler for Health {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        let count = self.0.notes.read().await.len();
        Ok(CheckHealthResult::ok(format!(
            "{}: {count} notes",
            self.0.title
        )))
    }
}

fn main() -> std::process::ExitCode {
    grafana_plugin::run(grafana_plugin::app::manage(
        PLUGIN_ID,
        |settings, _context| async move {
            let AppSettings { title } = if settings.json_data.is_empty() {
                AppSettings::default()
            } else {
                settings.parse_json_data()?
            };
            let app = Arc::new(Notes {
                title: title.unwrap_or_else(|| "Notes".to_owned()),
                notes: RwLock::default(),
            });
            Ok(Plugin::new()
                .with_call_resource(HttpResourceHandler::new(routes(app.clone())))
                .with_check_health(Health(app)))
        },
        ManageOptions::new().with_build_info(build_info!()),
    ))
}
