//! A loopback SMTP server that accepts every message and records it, for the email
//! receiver's side-by-side test: plain SMTP (no STARTTLS, no AUTH advertised), so both
//! Alertmanager and Sightline run with `require_tls: false`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One message as the sink received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mail {
    /// The name given in EHLO/HELO.
    pub(crate) hello: String,
    /// MAIL FROM's address (without `<>` and parameters).
    pub(crate) from: String,
    /// RCPT TO's addresses, in order.
    pub(crate) to: Vec<String>,
    /// The message after DATA, dot-unstuffed, with its CRLFs.
    pub(crate) data: String,
}

/// The sink; stops accepting when dropped.
pub(crate) struct SmtpSink {
    pub(crate) addr: String,
    mails: Arc<Mutex<Vec<Mail>>>,
    stop: Arc<AtomicBool>,
}

impl SmtpSink {
    pub(crate) fn start() -> SmtpSink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, st) = (mails.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => {
                        let m = m.clone();
                        std::thread::spawn(move || {
                            let _ = serve(s, &m);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        SmtpSink { addr, mails, stop }
    }

    /// Every message received so far.
    pub(crate) fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn address(arg: &str) -> String {
    let a = arg.split_whitespace().next().unwrap_or_default();
    a.trim_start_matches('<').trim_end_matches('>').to_string()
}

fn serve(s: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut w = s.try_clone()?;
    let mut r = BufReader::new(s);
    w.write_all(b"220 sink ESMTP ready\r\n")?;
    let mut mail = Mail {
        hello: String::new(),
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']);
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO ") || upper.starts_with("HELO ") {
            mail.hello = cmd[5..].to_string();
            w.write_all(b"250 sink\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = address(&cmd[10..]);
            mail.to.clear();
            w.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(address(&cmd[8..]));
            w.write_all(b"250 ok\r\n")?;
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mail.data = data;
            mails.lock().unwrap().push(mail.clone());
            w.write_all(b"250 queued\r\n")?;
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            w.write_all(b"250 ok\r\n")?;
        } else {
            w.write_all(b"502 not implemented\r\n")?;
        }
    }
}
