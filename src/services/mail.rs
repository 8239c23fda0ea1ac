//! Mail to users (password reset, address verification, invitations) through SMTP with
//! `lettre`, configured by `LATCHKEY_SMTP_URL`. Without it, a development server (its
//! issuer on loopback) writes the message to the log so the README's commands still work;
//! any other server drops it with a warning, never showing a link to whoever asked.
//!
//! Messages go out on a task of their own, so the answer to whoever asked takes the same
//! time whether a message was sent or not (a reset for an unknown address looks like any
//! other).

use std::sync::Arc;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Clone)]
enum Transport {
    Smtp(Arc<AsyncSmtpTransport<Tokio1Executor>>),
    /// Development: the message goes to the log.
    Log,
    /// Nowhere (no SMTP on a public server).
    Drop,
}

/// Where mail goes.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Log => "log",
            Transport::Drop => "off",
        };
        write!(f, "Mailer({kind}, from {})", self.from)
    }
}

/// What can go wrong setting up mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("LATCHKEY_SMTP_URL: {0}")]
    Url(String),
    #[error("LATCHKEY_MAIL_FROM: {0}")]
    From(String),
}

impl Mailer {
    /// The mailer of `smtp_url` (lettre's URLs: `smtps://user:pass@host` for TLS from the
    /// start, `smtp://user:pass@host:587?tls=required` for STARTTLS, `smtp://host:25` for a
    /// local relay), or of the log when `dev` and no URL is set.
    pub fn new(smtp_url: Option<&str>, from: &str, dev: bool) -> Result<Self, MailError> {
        let from: Mailbox = from.parse().map_err(|e| MailError::From(format!("{e}")))?;
        let transport = match smtp_url.filter(|u| !u.is_empty()) {
            Some(url) => Transport::Smtp(Arc::new(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Url(e.to_string()))?
                    .build(),
            )),
            None if dev => Transport::Log,
            None => Transport::Drop,
        };
        Ok(Self { transport, from })
    }

    /// Whether messages reach anyone (the pages say so when they cannot).
    pub fn sends(&self) -> bool {
        !matches!(self.transport, Transport::Drop)
    }

    /// Sends `mail` in the background; failures are logged, never shown to the asker.
    pub fn send(&self, mail: Mail) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.deliver(&mail).await {
                tracing::warn!(error = %e, "mail not sent");
            }
        });
    }

    /// Sends `mail` now.
    pub async fn deliver(&self, mail: &Mail) -> Result<(), String> {
        match &self.transport {
            Transport::Smtp(smtp) => {
                let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body.clone())
                    .map_err(|e| e.to_string())?;
                // Two tries: a relay that drops one connection gets a second.
                let mut last = String::new();
                for _ in 0..2 {
                    match smtp.send(message.clone()).await {
                        Ok(_) => return Ok(()),
                        Err(e) => last = e.to_string(),
                    }
                }
                Err(last)
            }
            Transport::Log => {
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    "mail (no LATCHKEY_SMTP_URL; development server, so written here):\n{}",
                    mail.body
                );
                Ok(())
            }
            Transport::Drop => Err("no LATCHKEY_SMTP_URL is set: mail is off".into()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn configuration() {
        assert!(
            Mailer::new(None, "Latchkey <no-reply@localhost>", true)
                .unwrap()
                .sends()
        );
        assert!(
            !Mailer::new(None, "no-reply@example.com", false)
                .unwrap()
                .sends()
        );
        assert!(
            Mailer::new(Some("smtp://127.0.0.1:2525"), "a@b.c", false)
                .unwrap()
                .sends()
        );
        assert!(Mailer::new(Some("ftp://x"), "a@b.c", false).is_err());
        assert!(Mailer::new(None, "not an address", true).is_err());
    }
}
