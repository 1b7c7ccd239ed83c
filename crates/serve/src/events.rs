//! `GET /events`: the engine's event log as dockerd streams it, a JSON object per event,
//! past events from `since`, then new ones until `until` or until the client goes away.

use crate::body::Body;
use crate::reply::{self, ApiError, ApiResult};
use crate::req::Ctx;
use berth_engine::events::{self, Filter, Window};
use http::StatusCode;

pub async fn events(ctx: &Ctx) -> ApiResult {
    let filter = Filter::parse(&ctx.filter_args()?)?;
    let window = Window::parse(
        ctx.q("since").filter(|s| !s.is_empty()),
        ctx.q("until").filter(|s| !s.is_empty()),
    )
    .map_err(ApiError::from)?;
    let (tx, body) = Body::channel();
    let root = ctx.state.root.clone();
    tokio::task::spawn_blocking(move || {
        let alive = tx.clone();
        events::stream_while(
            &root,
            window,
            &filter,
            &mut |e| {
                let mut line = serde_json::to_vec(e).unwrap_or_default();
                line.push(b'\n');
                tx.blocking_send(line.into()).is_ok()
            },
            &|| !alive.is_closed(),
        );
    });
    Ok(http::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}
