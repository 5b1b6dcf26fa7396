//! `/api/docs`: Swagger UI under a Content-Security-Policy with no inline script or style.
//! poem-openapi's own page inlines its script, stylesheet and the document; here its script and
//! stylesheet are taken out of that page once at start-up and served as files of their own
//! (`script-src 'self'; style-src 'self'`), and a small script of ours starts the UI on
//! `/api/v1/openapi.json`.

use poem::http::header;
use poem::{IntoResponse, Response, Route, get};

/// Where the docs live, and the files they load.
pub const PAGE: &str = "/api/docs";
pub const SCRIPT: &str = "/api/docs/swagger-ui-bundle.js";
pub const STYLE: &str = "/api/docs/swagger-ui.css";
pub const START: &str = "/api/docs/start.js";

/// The docs page's policy: same-origin script, style and fetches; Swagger UI's icons are
/// `data:` images in its stylesheet.
pub const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const PAGE_HTML: &str = concat!(
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    "<title>Accord API</title>\n",
    "<link rel=\"stylesheet\" href=\"/api/docs/swagger-ui.css\">\n</head>\n<body>\n",
    "<div id=\"ui\"></div>\n",
    "<script src=\"/api/docs/swagger-ui-bundle.js\"></script>\n",
    "<script src=\"/api/docs/start.js\"></script>\n</body>\n</html>\n"
);

const START_JS: &str = "SwaggerUIBundle({ dom_id: '#ui', url: '/api/v1/openapi.json', \
     filter: false, deepLinking: true });\n";

/// Swagger UI's script and stylesheet, as poem-openapi ships them.
pub struct Assets {
    pub script: String,
    pub style: String,
}

impl Assets {
    /// Takes the script and stylesheet out of poem-openapi's Swagger UI page (`html`); an error
    /// if the page no longer has the shape this expects (a poem-openapi upgrade changed it).
    pub fn from_swagger_html(html: &str) -> Result<Assets, String> {
        let style = between(html, "<style charset=\"UTF-8\">", "</style>")
            .ok_or("poem-openapi's Swagger UI page has no inline stylesheet")?;
        let script = between(html, "<script charset=\"UTF-8\">", "</script>")
            .ok_or("poem-openapi's Swagger UI page has no inline script")?;
        if !script.contains("SwaggerUIBundle") {
            return Err("poem-openapi's Swagger UI script does not define SwaggerUIBundle".into());
        }
        Ok(Assets {
            script: script.to_owned(),
            style: style.to_owned(),
        })
    }

    /// The docs' routes, to be mounted at [`PAGE`].
    pub fn routes(self) -> Route {
        let Assets { script, style } = self;
        Route::new()
            .at("/", get(poem::endpoint::make_sync(|_| page())))
            .at(
                "/swagger-ui-bundle.js",
                get(poem::endpoint::make_sync(move |_| {
                    asset(script.clone(), "text/javascript; charset=utf-8")
                })),
            )
            .at(
                "/swagger-ui.css",
                get(poem::endpoint::make_sync(move |_| {
                    asset(style.clone(), "text/css; charset=utf-8")
                })),
            )
            .at(
                "/start.js",
                get(poem::endpoint::make_sync(|_| {
                    asset(START_JS.to_owned(), "text/javascript; charset=utf-8")
                })),
            )
    }
}

fn page() -> Response {
    PAGE_HTML
        .with_content_type("text/html; charset=utf-8")
        .into_response()
}

/// A static file: the same for everyone and carrying no data, so it may be cached.
fn asset(body: String, content_type: &'static str) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(body)
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_same_origin_files_and_has_no_inline_script_or_style() {
        assert!(!PAGE_HTML.contains("<style"));
        assert!(!PAGE_HTML.contains("style="));
        for piece in PAGE_HTML.split("<script").skip(1) {
            assert!(piece.starts_with(" src=\"/api/docs/"), "{piece}");
            assert!(piece.starts_with(|_| true) && piece.contains("></script>"));
            let inside = piece.split_once('>').unwrap().1;
            assert!(inside.starts_with("</script>"), "inline script: {inside}");
        }
        for path in [SCRIPT, STYLE, START] {
            assert!(PAGE_HTML.contains(&format!("\"{path}\"")), "{path}");
        }
    }

    #[test]
    fn assets_come_out_of_the_page_poem_openapi_makes_and_its_shape_is_checked() {
        let page = "<html><style charset=\"UTF-8\">.a{}</style>\
                    <script charset=\"UTF-8\">var SwaggerUIBundle=1;</script><script>x</script>";
        let a = Assets::from_swagger_html(page).unwrap();
        assert_eq!(a.style, ".a{}");
        assert_eq!(a.script, "var SwaggerUIBundle=1;");
        assert!(Assets::from_swagger_html("<html></html>").is_err());
        let no_bundle = "<style charset=\"UTF-8\"></style><script charset=\"UTF-8\">1</script>";
        assert!(Assets::from_swagger_html(no_bundle).is_err());
    }
}
