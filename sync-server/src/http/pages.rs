//! Head office's pages (the files of `ui/dist-office`, served at `/`) and the storefront (the
//! files of `ui/dist-shop`, served at `/shop/`), embedded in the binary by `build.rs`, with the
//! headers that keep a page from being framed, sniffed or made to run another site's scripts.

use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

#[derive(rust_embed::Embed)]
#[folder = "$CAISSE_OFFICE_DIR"]
struct Pages;

#[derive(rust_embed::Embed)]
#[folder = "$CAISSE_SHOP_DIR"]
struct ShopPages;

/// Scripts and styles from this server only, no inline ones, no frames, fetches to this
/// server only: an injected `<script>` or `onclick` does not run.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// Answers GET and HEAD for anything that is not an API route: the pages' files, and their
/// single page for any other path (the pages route by the URL's fragment, so that is `/`, or
/// `/shop/` for the storefront).
pub async fn serve(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || !(method == Method::GET || method == Method::HEAD) {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    // The storefront: `/shop`, `/shop/` and `/shop/assets/…`; it routes by the fragment too.
    if let Some(rest) = path.strip_prefix("/shop").filter(|r| r.is_empty() || r.starts_with('/')) {
        return page_file::<ShopPages>(rest.trim_start_matches('/'), path);
    }
    page_file::<Pages>(path.trim_start_matches('/'), path)
}

/// `wanted` from the embedded folder `P`, or its index.html for a path without a file name.
fn page_file<P: rust_embed::RustEmbed>(wanted: &str, path: &str) -> Response {
    let (name, file) = match P::get(wanted) {
        Some(file) if !wanted.is_empty() => (wanted, file),
        _ if wanted.contains('.') => return ApiError::NotFound(format!("no file {path}")).into_response(),
        _ => match P::get("index.html") {
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
