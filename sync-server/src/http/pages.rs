//! Head office's pages: the files of `ui/dist-office`, embedded in the binary by `build.rs`
//! and served at `/`, with the headers that keep a page from being framed, sniffed or made
//! to run another site's scripts.

use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

#[derive(rust_embed::Embed)]
#[folder = "$CAISSE_OFFICE_DIR"]
struct Pages;

/// Scripts and styles from this server only, no inline ones, no frames, fetches to this
/// server only: an injected `<script>` or `onclick` does not run.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// Answers GET and HEAD for anything that is not an API route: the page's files, and its
/// single page for any other path (the pages route by the URL's fragment, so that is `/`).
pub async fn serve(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || !(method == Method::GET || method == Method::HEAD) {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    let wanted = path.trim_start_matches('/');
    let (name, file) = match Pages::get(wanted) {
        Some(file) if !wanted.is_empty() => (wanted, file),
        _ if wanted.contains('.') => return ApiError::NotFound(format!("no file {path}")).into_response(),
        _ => match Pages::get("index.html") {
            Some(file) => ("index.html", file),
            None => return ApiError::NotFound("the pages are not built".into()).into_response(),
        },
    };
    let mime = file.metadata.mimetype();
    // Vite names the assets after their content: they never change under one name.
    let cache = if name.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    response
}
