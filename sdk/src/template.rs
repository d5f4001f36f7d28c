//! Alertmanager templates, rendered by the host over the notification being delivered
//! (`default.tmpl` and the alertmanager.yml's `templates:` files): a receiver renders the
//! fields Alertmanager renders, and never reimplements Go templates.
//!
//! [`Renderer`] is Alertmanager's `notify.TmplText`: render field after field, and check
//! once at the end whether any failed (the first error wins, and after it every field
//! renders as `""`, as in Go). A template error is permanent: retrying renders the same.
//!
//! ```no_run
//! use sightline_sdk::template::Renderer;
//!
//! # fn f() -> Result<(), sightline_sdk::NotifyError> {
//! let t = Renderer::host();
//! let title = t.text(r#"{{ template "slack.default.title" . }}"#);
//! let text = t.text("{{ .CommonAnnotations.summary }}");
//! t.finish()?;
//! # let _ = (title, text);
//! # Ok(())
//! # }
//! ```
//!
//! Plugins unit-test their payloads natively with [`Renderer::new`] and a closure standing
//! in for the host.

use std::cell::RefCell;

use crate::NotifyError;

/// Renders `text` as Go text/template through the host; the error is Go's message with its
/// position in `text`.
pub fn render(text: &str) -> Result<String, String> {
    crate::wit::template::render(text)
}

/// Renders `text` as Go html/template (values escaped for HTML) through the host, as
/// Alertmanager renders an email's `html` body and Telegram's `HTML` messages.
pub fn render_html(text: &str) -> Result<String, String> {
    crate::wit::template::render_html(text)
}

type RenderFn<'a> = Box<dyn Fn(&str) -> Result<String, String> + 'a>;

/// Renders fields one after another and keeps the first error (Go's `notify.TmplText`).
pub struct Renderer<'a> {
    render: RenderFn<'a>,
    error: RefCell<Option<String>>,
}

impl Renderer<'static> {
    /// Text templates through the host ([`render`]).
    pub fn host() -> Self {
        Renderer::new(render)
    }

    /// HTML templates through the host ([`render_html`]).
    pub fn host_html() -> Self {
        Renderer::new(render_html)
    }
}

impl<'a> Renderer<'a> {
    /// A renderer over `render` (a test's stand-in for the host).
    pub fn new(render: impl Fn(&str) -> Result<String, String> + 'a) -> Self {
        Renderer {
            render: Box::new(render),
            error: RefCell::new(None),
        }
    }

    /// `text` rendered; `""` once any field has failed. Text without `{{` is returned as is
    /// without a host call (a template without actions renders to itself).
    pub fn text(&self, text: &str) -> String {
        if self.error.borrow().is_some() {
            return String::new();
        }
        if !text.contains("{{") {
            return text.to_string();
        }
        match (self.render)(text) {
            Ok(s) => s,
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                String::new()
            }
        }
    }

    /// `text` rendered on its own, its error returned rather than kept (Go's
    /// `ExecuteTextString`, as PagerDuty's `details` are rendered).
    pub fn try_text(&self, text: &str) -> Result<String, String> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        (self.render)(text)
    }

    /// The first error, if any field failed to render.
    pub fn error(&self) -> Option<String> {
        self.error.borrow().clone()
    }

    /// `Ok` when every field rendered, else the first error as a permanent failure.
    pub fn finish(&self) -> Result<(), NotifyError> {
        match self.error() {
            None => Ok(()),
            Some(e) => Err(NotifyError::permanent(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_wins_and_later_fields_are_empty() {
        let t = Renderer::new(|s: &str| {
            if s.contains("bad") {
                Err(format!("cannot render {s}"))
            } else {
                Ok(s.replace("{{ . }}", "X"))
            }
        });
        assert_eq!(t.text("plain"), "plain");
        assert_eq!(t.text("a {{ . }}"), "a X");
        assert!(t.finish().is_ok());
        assert_eq!(t.text("{{ bad }}"), "");
        assert_eq!(t.text("a {{ . }}"), "");
        assert_eq!(t.text("{{ bad2 }}"), "");
        let e = t.finish().unwrap_err();
        assert!(!e.is_retryable());
        assert_eq!(e.message(), "cannot render {{ bad }}");
    }
}
