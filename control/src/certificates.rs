//! Custom domains' certificates: upload (validated: the key is the leaf's, the leaf is valid
//! now and covers the host), show (subject, issuer, SANs, validity; never the key), remove,
//! and compile into the gateway's [`gateway::tls::CertificateTable`]. Private keys are
//! sealed with the instance's secret key ([`crate::secrets`]) before they reach the
//! database, and appear in no view, audit event or log.

use crate::entity::{custom_domain, domain_certificate};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser};
use chrono::{DateTime, Utc};
use domain::error::Errors;
use domain::group::{CertificateUpload, CertificateView};
use gateway::tls::{CertificateTable, KeyPairError};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use std::sync::Arc;

/// Largest PEM chain accepted (a long chain is a few KiB).
const MAX_CERT_PEM: usize = 64 * 1024;
/// Largest PEM key accepted (an RSA-8192 key is under 7 KiB).
const MAX_KEY_PEM: usize = 16 * 1024;
/// Most certificates in a chain.
const MAX_CHAIN: usize = 10;
/// A certificate this close to its end is flagged in the console and by the metric.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What the console shows of a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    subject: String,
    issuer: String,
    sans: Vec<String>,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

fn facts(der: &[u8]) -> Result<Facts, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("the leaf certificate is not valid X.509: {e}"))?;
    let time = |t: &x509_parser::time::ASN1Time| {
        DateTime::<Utc>::from_timestamp(t.timestamp(), 0).ok_or_else(|| "a validity date is out of range".to_owned())
    };
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(dns) => sans.push((*dns).to_owned()),
                x509_parser::extensions::GeneralName::IPAddress(raw) => match raw.len() {
                    4 => sans.push(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*raw).expect("4 bytes")).to_string()),
                    16 => {
                        sans.push(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*raw).expect("16 bytes")).to_string())
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Ok(Facts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans,
        not_before: time(&cert.validity().not_before)?,
        not_after: time(&cert.validity().not_after)?,
    })
}

/// What the console shows of the leaf of a PEM chain, or none if it does not read.
pub fn describe(cert_pem: &str) -> Option<CertificateView> {
    let chain = gateway::tls::certificates(cert_pem).ok()?;
    facts(&chain[0]).ok().map(|leaf| view(&leaf, Utc::now()))
}

/// Whole days until a DER certificate's end (negative once past), or none if unreadable.
pub fn days_left(der: &[u8]) -> Option<i64> {
    facts(der).ok().map(|leaf| (leaf.not_after - Utc::now()).num_days())
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn view(facts: &Facts, now: DateTime<Utc>) -> CertificateView {
    let days_left = (facts.not_after - now).num_days();
    CertificateView {
        subject: facts.subject.clone(),
        issuer: facts.issuer.clone(),
        sans: facts.sans.clone(),
        not_before: facts.not_before.to_rfc3339(),
        not_after: facts.not_after.to_rfc3339(),
        days_left,
        expiring: days_left < EXPIRY_WARNING_DAYS,
    }
}

/// Checks an upload for `host` at `now`: sizes, the PEM chain, the key (the leaf's), the
/// leaf's validity period and names. Every problem is reported against its field.
fn inspect(upload: &CertificateUpload, host: &str, now: DateTime<Utc>) -> Result<Facts, ControlError> {
    let mut errors = Errors::default();
    if upload.cert_pem.len() > MAX_CERT_PEM {
        errors.add("cert_pem", format!("must be at most {MAX_CERT_PEM} bytes"));
    }
    if upload.key_pem.len() > MAX_KEY_PEM {
        errors.add("key_pem", format!("must be at most {MAX_KEY_PEM} bytes"));
    }
    if !errors.is_empty() {
        return Err(ControlError::Validation(errors.into_vec()));
    }
    let chain = match gateway::tls::certificates(&upload.cert_pem) {
        Ok(chain) if chain.len() > MAX_CHAIN => {
            errors.add("cert_pem", format!("a chain of at most {MAX_CHAIN} certificates"));
            None
        }
        Ok(chain) => Some(chain),
        Err(KeyPairError::Certificate(why) | KeyPairError::Key(why)) => {
            errors.add("cert_pem", why);
            None
        }
    };
    let mut found = None;
    if let Some(chain) = &chain {
        match facts(&chain[0]) {
            Ok(leaf) => {
                if now < leaf.not_before {
                    errors.add("cert_pem", format!("the certificate is not valid before {}", date(leaf.not_before)));
                } else if now > leaf.not_after {
                    errors.add("cert_pem", format!("the certificate expired on {}", date(leaf.not_after)));
                }
                if !gateway::tls::covers(&chain[0], host) {
                    let names = if leaf.sans.is_empty() { "none".to_owned() } else { leaf.sans.join(", ") };
                    errors.add("cert_pem", format!("the certificate does not cover `{host}` (its names: {names})"));
                }
                found = Some(leaf);
            }
            Err(why) => errors.add("cert_pem", why),
        }
        match gateway::tls::certified_key(&upload.cert_pem, &upload.key_pem) {
            Ok(_) => {}
            Err(KeyPairError::Key(why)) => errors.add("key_pem", why),
            Err(KeyPairError::Certificate(why)) => errors.add("cert_pem", why),
        }
    } else if let Err(KeyPairError::Key(why) | KeyPairError::Certificate(why)) =
        gateway::tls::signing_key(&upload.key_pem)
    {
        errors.add("key_pem", why);
    }
    match found {
        Some(leaf) if errors.is_empty() => Ok(leaf),
        _ => Err(ControlError::Validation(errors.into_vec())),
    }
}

fn stored_facts(row: &domain_certificate::Model) -> Result<Facts, ControlError> {
    Ok(Facts {
        subject: row.subject.clone(),
        issuer: row.issuer.clone(),
        sans: serde_json::from_str(&row.sans).map_err(|e| crate::entity::unreadable("certificate", row.id, e))?,
        not_before: row.not_before,
        not_after: row.not_after,
    })
}

impl Control {
    async fn find_domain(&self, group: &str, host: &str) -> Result<custom_domain::Model, ControlError> {
        let group = self.find_group(group).await?;
        let host = host.trim().to_ascii_lowercase();
        custom_domain::Entity::find()
            .filter(custom_domain::Column::GroupId.eq(group.id))
            .filter(custom_domain::Column::Host.eq(&host))
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("custom domain `{host}` of group `{}`", group.name)))
    }

    /// Sets (or replaces) the certificate of a custom domain. The next TLS handshake for the
    /// host uses it; connections already open keep theirs.
    pub async fn set_certificate(
        &self,
        group: &str,
        host: &str,
        upload: &CertificateUpload,
        actor: &CurrentUser,
    ) -> Result<CertificateView, ControlError> {
        actor.require(Action::EditGroup(group))?;
        let found = self.find_domain(group, host).await?;
        let now = Utc::now();
        let leaf = inspect(upload, &found.host, now)?;
        let sealed = self.secrets.seal(upload.key_pem.as_bytes(), &found.host);
        let txn = self.begin_write().await?;
        // The domain may have been removed since it was looked up.
        if custom_domain::Entity::find_by_id(found.id).one(&txn).await?.is_none() {
            return Err(ControlError::NotFound(format!("custom domain `{}`", found.host)));
        }
        let before = domain_certificate::Entity::find()
            .filter(domain_certificate::Column::DomainId.eq(found.id))
            .one(&txn)
            .await?;
        let sans = serde_json::to_string(&leaf.sans).map_err(|e| ControlError::Internal(e.to_string()))?;
        let mut row = domain_certificate::ActiveModel {
            domain_id: Set(found.id),
            host: Set(found.host.clone()),
            cert_pem: Set(upload.cert_pem.clone()),
            key_sealed: Set(sealed),
            subject: Set(leaf.subject.clone()),
            issuer: Set(leaf.issuer.clone()),
            sans: Set(sans),
            not_before: Set(leaf.not_before),
            not_after: Set(leaf.not_after),
            updated_at: Set(now),
            updated_by: Set(actor.username.clone()),
            ..Default::default()
        };
        let before_view = match &before {
            Some(old) => {
                row.id = Set(old.id);
                Some(view(&stored_facts(old)?, now))
            }
            None => None,
        };
        match before {
            Some(_) => row.update(&txn).await?,
            None => row.insert(&txn).await?,
        };
        let after = view(&leaf, now);
        audit::record_in(
            &txn,
            actor,
            Some(group),
            "domain.certificate.set",
            "domain",
            &found.host,
            before_view.as_ref(),
            Some(&after),
        )
        .await?;
        self.commit_live(txn, Refresh::Certificates).await?;
        Ok(after)
    }

    /// The certificate of a custom domain (404 when it has none).
    pub async fn get_certificate(&self, group: &str, host: &str) -> Result<CertificateView, ControlError> {
        let found = self.find_domain(group, host).await?;
        let row = domain_certificate::Entity::find()
            .filter(domain_certificate::Column::DomainId.eq(found.id))
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("a certificate for `{}`", found.host)))?;
        Ok(view(&stored_facts(&row)?, Utc::now()))
    }

    /// Removes a custom domain's certificate; its handshakes get the default certificate.
    pub async fn remove_certificate(&self, group: &str, host: &str, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditGroup(group))?;
        let found = self.find_domain(group, host).await?;
        let txn = self.begin_write().await?;
        let row = domain_certificate::Entity::find()
            .filter(domain_certificate::Column::DomainId.eq(found.id))
            .one(&txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("a certificate for `{}`", found.host)))?;
        let before = view(&stored_facts(&row)?, Utc::now());
        domain_certificate::Entity::delete_by_id(row.id).exec(&txn).await?;
        audit::record_in(
            &txn,
            actor,
            Some(group),
            "domain.certificate.remove",
            "domain",
            &found.host,
            Some(&before),
            None::<&()>,
        )
        .await?;
        self.commit_live(txn, Refresh::Certificates).await
    }

    /// The certificates of a group's custom domains, by host (for the domains list).
    pub(crate) async fn certificate_views(
        &self,
        domain_ids: &[i32],
    ) -> Result<std::collections::HashMap<i32, CertificateView>, ControlError> {
        let now = Utc::now();
        let rows = domain_certificate::Entity::find()
            .filter(domain_certificate::Column::DomainId.is_in(domain_ids.iter().copied()))
            .all(self.db())
            .await?;
        rows.iter().map(|row| Ok((row.domain_id, view(&stored_facts(row)?, now)))).collect()
    }

    /// Whole days left on every custom domain's certificate, by host (for the
    /// `gantry_certificate_expiry_days` metric).
    pub async fn certificate_expiries(&self) -> Result<Vec<(String, i64)>, ControlError> {
        let now = Utc::now();
        let rows = domain_certificate::Entity::find().all(self.db()).await?;
        Ok(rows.into_iter().map(|row| (row.host, (row.not_after - now).num_days())).collect())
    }

    /// Every custom domain's certificate, opened and loaded for handshakes. A row whose key
    /// does not open (the secret key changed) is left out and logged: its host then gets the
    /// default certificate, and the console still shows the stored facts.
    pub(crate) async fn compile_certificates(&self) -> Result<CertificateTable, ControlError> {
        let mut table = CertificateTable::default();
        for row in domain_certificate::Entity::find().all(self.db()).await? {
            let key = match self.secrets.open(&row.key_sealed, &row.host) {
                Ok(key) => key,
                Err(error) => {
                    tracing::error!(host = %row.host, %error, "a certificate's private key does not open; serving the default certificate");
                    continue;
                }
            };
            let key = String::from_utf8(key).unwrap_or_default();
            match gateway::tls::certified_key(&row.cert_pem, &key) {
                Ok(loaded) => table.insert(&row.host, Arc::new(loaded)),
                Err(error) => tracing::error!(host = %row.host, ?error, "a stored certificate does not load"),
            }
        }
        Ok(table)
    }

    /// Recompiles the certificate table and swaps it into the gateway snapshot.
    pub(crate) async fn refresh_certificates(&self) -> Result<(), ControlError> {
        let _guard = self.gateway_lock.lock().await;
        let revision = self.config_revision().await?;
        let table = self.compile_certificates().await?;
        let snapshot = self.snapshots.current().with_certificates(table, revision);
        self.snapshots.swap(snapshot);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn issued(names: &[&str], from: DateTime<Utc>, to: DateTime<Utc>) -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
        params.not_before = rcgen::date_time_ymd(
            from.format("%Y").to_string().parse().expect("y"),
            from.format("%m").to_string().parse().expect("m"),
            from.format("%d").to_string().parse().expect("d"),
        );
        params.not_after = rcgen::date_time_ymd(
            to.format("%Y").to_string().parse().expect("y"),
            to.format("%m").to_string().parse().expect("m"),
            to.format("%d").to_string().parse().expect("d"),
        );
        params.distinguished_name.push(rcgen::DnType::CommonName, names[0]);
        let cert = params.self_signed(&key).expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    fn upload(pair: &(String, String)) -> CertificateUpload {
        CertificateUpload { cert_pem: pair.0.clone(), key_pem: pair.1.clone() }
    }

    fn fields(result: Result<Facts, ControlError>) -> Vec<(String, String)> {
        match result {
            Err(ControlError::Validation(errors)) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_certificate_shows_its_names_and_dates() {
        let now = Utc::now();
        let pair = issued(&["api.example.com", "*.api.example.com"], now - Duration::days(2), now + Duration::days(90));
        let leaf = inspect(&upload(&pair), "api.example.com", now).expect("valid");
        assert_eq!(leaf.sans, vec!["api.example.com", "*.api.example.com"]);
        assert!(leaf.subject.contains("api.example.com"), "{}", leaf.subject);
        let shown = view(&leaf, now);
        assert!(!shown.expiring);
        assert!((88..=90).contains(&shown.days_left), "{}", shown.days_left);
        // The wildcard covers one label below.
        assert!(inspect(&upload(&pair), "v1.api.example.com", now).is_ok());
    }

    #[test]
    fn refusals_name_the_field_and_the_reason() {
        let now = Utc::now();
        let good = issued(&["api.example.com"], now - Duration::days(2), now + Duration::days(90));
        let other = issued(&["api.example.com"], now - Duration::days(2), now + Duration::days(90));
        let mismatched = CertificateUpload { cert_pem: good.0.clone(), key_pem: other.1.clone() };
        assert_eq!(
            fields(inspect(&mismatched, "api.example.com", now)),
            vec![("key_pem".to_owned(), "the private key does not match the certificate".to_owned())]
        );
        let expired = issued(&["api.example.com"], now - Duration::days(400), now - Duration::days(3));
        let refused = fields(inspect(&upload(&expired), "api.example.com", now));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].1.starts_with("the certificate expired on"), "{refused:?}");
        let early = issued(&["api.example.com"], now + Duration::days(3), now + Duration::days(90));
        assert!(fields(inspect(&upload(&early), "api.example.com", now))[0].1.contains("not valid before"));
        let wrong = fields(inspect(&upload(&good), "www.example.org", now));
        assert_eq!(wrong[0].0, "cert_pem");
        assert!(wrong[0].1.contains("does not cover `www.example.org` (its names: api.example.com)"), "{wrong:?}");
        let junk = CertificateUpload { cert_pem: "hello".into(), key_pem: "world".into() };
        let both: Vec<String> = fields(inspect(&junk, "api.example.com", now)).into_iter().map(|(f, _)| f).collect();
        assert_eq!(both, vec!["cert_pem", "key_pem"]);
        let huge = CertificateUpload { cert_pem: "x".repeat(MAX_CERT_PEM + 1), key_pem: good.1.clone() };
        assert_eq!(fields(inspect(&huge, "api.example.com", now))[0].0, "cert_pem");
    }

    #[test]
    fn a_certificate_near_its_end_is_flagged() {
        let now = Utc::now();
        let pair = issued(&["api.example.com"], now - Duration::days(300), now + Duration::days(10));
        let leaf = inspect(&upload(&pair), "api.example.com", now).expect("still valid");
        assert!(view(&leaf, now).expiring);
    }
}
