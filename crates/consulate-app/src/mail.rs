//! Outgoing mail: SMTP (plain, STARTTLS or TLS, from a URL such as
//! `smtp://relay:587?tls=required` or `smtps://user:pass@relay:465`), or by default a folder
//! of `.eml` files so a first start works without a mail server.

use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};

/// Why mail could not be sent (or configured).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail configuration: {0}")]
    Config(String),
    #[error("the message could not be built: {0}")]
    Message(String),
    #[error("sending failed: {0}")]
    Send(String),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(AsyncFileTransport<Tokio1Executor>),
    Disabled,
}

/// Where mail goes, and who it is from.
pub struct Mailer {
    transport: Transport,
    from: Option<Mailbox>,
    description: String,
}

impl Mailer {
    /// Mail over SMTP. The URL carries host, port, credentials and TLS mode (lettre's URL form).
    pub fn smtp(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("SMTP URL: {e}")))?
            .build();
        let host = url
            .split_once("://")
            .map(|(_, rest)| rest.rsplit('@').next().unwrap_or(rest))
            .unwrap_or(url);
        Ok(Mailer {
            transport: Transport::Smtp(transport),
            from: Some(mailbox(from)?),
            description: format!("SMTP relay {host}"),
        })
    }

    /// Mail written as `.eml` files into `dir` (created if needed).
    pub fn folder(dir: &Path, from: &str) -> Result<Self, MailError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MailError::Config(format!("mail folder {}: {e}", dir.display())))?;
        Ok(Mailer {
            transport: Transport::Folder(AsyncFileTransport::new(dir)),
            from: Some(mailbox(from)?),
            description: format!("folder {}", dir.display()),
        })
    }

    /// No mail at all (tools that never send).
    pub fn disabled() -> Self {
        Mailer {
            transport: Transport::Disabled,
            from: None,
            description: "disabled".into(),
        }
    }

    /// Where mail goes, for logs.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Sends one plain-text message to one address.
    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), MailError> {
        let Some(from) = &self.from else {
            return Err(MailError::Config("mail is disabled".into()));
        };
        let message = Message::builder()
            .from(from.clone())
            .to(mailbox(to)?)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text.to_owned())
            .map_err(|e| MailError::Message(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
            Transport::Folder(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
            Transport::Disabled => Err(MailError::Config("mail is disabled".into())),
        }
    }
}

fn mailbox(s: &str) -> Result<Mailbox, MailError> {
    s.parse::<Mailbox>()
        .map_err(|e| MailError::Message(format!("'{s}' is not a mail address: {e}")))
}

/// The default mail folder: beside a SQLite database file, else in the working directory.
pub fn default_folder(database: &str) -> PathBuf {
    let file = database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))
        .unwrap_or(database);
    let is_file = !database.starts_with("postgres") && !file.is_empty() && file != ":memory:";
    let base = if is_file {
        Path::new(file.split('?').next().unwrap_or(file))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    } else {
        PathBuf::new()
    };
    base.join("mail-outbox")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_folder_sits_beside_the_database() {
        assert_eq!(
            default_folder("/var/lib/consulate/consulate.db"),
            PathBuf::from("/var/lib/consulate/mail-outbox")
        );
        assert_eq!(default_folder("consulate.db"), PathBuf::from("mail-outbox"));
        assert_eq!(
            default_folder("postgres://u:p@db/consulate"),
            PathBuf::from("mail-outbox")
        );
    }

    #[tokio::test]
    async fn folder_mail_lands_as_eml() {
        let dir = std::env::temp_dir().join(format!("consulate-mail-{}", uuid::Uuid::new_v4()));
        let m = Mailer::folder(&dir, "Consulate <no-reply@consulate.example>").unwrap();
        m.send("ana@partner.example", "Your code", "12345678")
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(text.contains("To: ana@partner.example"), "{text}");
        assert!(text.contains("12345678"), "{text}");
        assert!(m.send("not an address", "x", "y").await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
