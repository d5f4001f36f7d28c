//! Address lists as Go's `mail.ParseAddressList` reads the common forms: `a@b`,
//! `Name <a@b>`, `"Quoted, Name" <a@b>` and comma-separated lists of them. Only the bare
//! addresses are kept: they are what Alertmanager gives to `MAIL FROM` and `RCPT TO`.
//! Group syntax, comments and obsolete routes are not supported (Go accepts some of them);
//! they fail as a malformed address, which is permanent.

/// The bare addresses of `list`, or Go's reason for refusing it.
pub fn parse_list(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in split_top_level(list)? {
        let item = item.trim();
        if item.is_empty() {
            // Go: an empty list, or an empty element after a comma.
            return Err(if out.is_empty() && list.trim().is_empty() {
                "mail: no address".to_string()
            } else {
                "mail: expected single address".to_string()
            });
        }
        out.push(parse_one(item)?);
    }
    if out.is_empty() {
        return Err("mail: no address".to_string());
    }
    Ok(out)
}

/// Splits at commas outside quoted strings and angle brackets.
fn split_top_level(list: &str) -> Result<Vec<&str>, String> {
    let (mut items, mut start, mut quoted, mut angle, mut escaped) =
        (Vec::new(), 0, false, false, false);
    for (i, c) in list.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err("mail: missing closing '\"'".to_string());
    }
    items.push(&list[start..]);
    Ok(items)
}

fn parse_one(item: &str) -> Result<String, String> {
    let spec = match item.rfind('<') {
        Some(open) => {
            let rest = &item[open + 1..];
            let close = rest
                .find('>')
                .ok_or_else(|| "mail: unclosed angle-addr".to_string())?;
            if !rest[close + 1..].trim().is_empty() {
                return Err("mail: expected single address".to_string());
            }
            &rest[..close]
        }
        None => item,
    };
    addr_spec(spec.trim())
}

/// `local@domain` with neither part empty nor holding spaces, angle brackets or commas.
fn addr_spec(s: &str) -> Result<String, String> {
    let at = s
        .rfind('@')
        .ok_or_else(|| "mail: missing @ in addr-spec".to_string())?;
    let (local, domain) = (&s[..at], &s[at + 1..]);
    let bad = |p: &str| {
        p.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;()[]".contains(c))
    };
    if local.is_empty() || (bad(local) && !local.starts_with('"')) {
        return Err("mail: invalid string".to_string());
    }
    if domain.is_empty() || bad(domain) {
        return Err("mail: no domain in addr-spec".to_string());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_forms() {
        assert_eq!(parse_list("a@b.c").unwrap(), ["a@b.c"]);
        assert_eq!(
            parse_list("Alert Manager <am@example.org>").unwrap(),
            ["am@example.org"]
        );
        assert_eq!(
            parse_list("\"Ops, Team\" <ops@x.io>, dev@x.io ,<sre@x.io>").unwrap(),
            ["ops@x.io", "dev@x.io", "sre@x.io"]
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(parse_list("").unwrap_err(), "mail: no address");
        assert_eq!(
            parse_list("nobody").unwrap_err(),
            "mail: missing @ in addr-spec"
        );
        assert!(parse_list("a@b, ").is_err());
        assert!(parse_list("x <a@b").is_err());
        assert!(parse_list("a@").is_err());
    }
}
