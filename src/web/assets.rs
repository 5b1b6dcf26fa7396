//! The console's static files, built into the binary: its stylesheet. Served with a day's
//! caching; the name changes when the content should.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Response, handler};

const STYLE: &str = include_str!("../../templates/web/accord.css");

#[handler]
pub fn serve(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "accord.css" => Response::builder()
            .content_type("text/css; charset=utf-8")
            .header(header::CACHE_CONTROL, "public, max-age=86400")
            .body(STYLE),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found"),
    }
}
