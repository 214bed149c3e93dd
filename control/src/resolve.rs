//! Where each API of a deployment goes, as pure functions of what is stored: the
//! [`ServiceDirectory`] (every backend service's URLs), [`service_of`] (the service an API
//! uses), [`target_of`] (what the gateway compiles it to) and [`release_problems`] (why a
//! version cannot be released somewhere). No database, no `Control`: releases, the snapshot
//! compiler, the Debug API and backend services all ask these the same question.

use crate::FieldError;
use domain::api::{ApiSpec, BackendType};
use domain::release::{DeployBackend, VersionApi};
use domain::service::ServiceKind;
use domain::{Environment, Targets};
use gateway::compiled::Target;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every service's type and URL per environment, for compiling and checking releases.
#[derive(Debug, Clone, Default)]
pub struct ServiceDirectory(BTreeMap<String, (ServiceKind, [Option<String>; 3])>);

impl ServiceDirectory {
    /// A directory of `services`: name → (type, URL per [`Environment::index`]).
    pub fn new(services: BTreeMap<String, (ServiceKind, [Option<String>; 3])>) -> ServiceDirectory {
        ServiceDirectory(services)
    }

    /// Where an API using service `name` goes in `env`.
    pub fn resolve(&self, name: &str, env: Environment) -> Target {
        let Some((kind, urls)) = self.0.get(name) else {
            return Target::Offline(format!("backend service `{name}` does not exist"));
        };
        match (kind, urls[env.index()].as_deref()) {
            (_, None) => Target::Offline(format!("backend service `{name}` has no URL in {}", env.label())),
            (ServiceKind::Mock, Some(_)) => Target::Mock,
            (ServiceKind::Http, Some(url)) => match Targets::parse(url) {
                Ok(targets) => Target::Http(targets),
                Err(e) => Target::Offline(format!("backend service `{name}`: {e}")),
            },
        }
    }
}

/// The service an API uses in a deployment with `backend`, if any: the release's service for
/// a unified API, the API's own service for an HTTP backend without an address.
pub fn service_of<'a>(spec: &'a ApiSpec, backend: &'a DeployBackend) -> Option<&'a str> {
    let own = &spec.backend;
    match (own.unified, backend, own.kind) {
        (true, DeployBackend::Service { service }, _) => Some(service),
        (false, _, BackendType::Http) if own.http.address.is_none() => own.http.service.as_deref(),
        _ => None,
    }
}

/// What one API of a deployment with `backend` compiles to in `env`.
pub fn target_of(spec: &ApiSpec, backend: &DeployBackend, services: &ServiceDirectory, env: Environment) -> Target {
    let own = &spec.backend;
    let address = |raw: &str, what: &str| match Targets::parse(raw) {
        Ok(targets) => Target::Http(targets),
        Err(e) => Target::Unavailable(format!("{what}: {e}")),
    };
    match (own.unified, backend, own.kind) {
        (true, DeployBackend::Service { service }, _) => services.resolve(service, env),
        (true, DeployBackend::Mock, _) => Target::Mock,
        (true, DeployBackend::Http { address: raw }, _) => address(raw, "release address"),
        (false, _, BackendType::Mock) => Target::Mock,
        (false, _, BackendType::Function) => {
            let timeout = own.function.timeout_ms.unwrap_or(domain::backend::DEFAULT_FUNCTION_TIMEOUT_MS);
            Target::Function(Arc::new(gateway::function::FunctionCode::new(
                &own.function.code,
                std::time::Duration::from_millis(timeout),
            )))
        }
        (false, _, BackendType::Http) => match (own.http.address.as_deref(), own.http.service.as_deref()) {
            (Some(raw), _) => address(raw, "backend address"),
            (None, Some(service)) => services.resolve(service, env),
            (None, None) => Target::Unavailable("no backend address or service".into()),
        },
    }
}

/// Why a version cannot be released to `env` with `backend`, if it cannot: each API must be
/// servable there. APIs whose backend service has no URL in `env` are named per service.
pub fn release_problems(
    apis: &[VersionApi],
    backend: &DeployBackend,
    services: &ServiceDirectory,
    env: Environment,
) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut offline: Vec<(String, Vec<String>)> = Vec::new();
    for api in apis {
        let spec = &api.spec;
        let own_function = !spec.backend.unified && spec.backend.kind == BackendType::Function;
        if own_function {
            if let Err(message) = gateway::function::check(&spec.backend.function.code) {
                problems.push(FieldError::new(
                    "version",
                    format!("API `{}`: its function does not compile: {message}", spec.name),
                ));
            }
        } else if let Target::Offline(reason) = target_of(spec, backend, services, env) {
            match offline.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, names)) => names.push(format!("`{}`", spec.name)),
                None => offline.push((reason, vec![format!("`{}`", spec.name)])),
            }
        }
    }
    for (reason, names) in offline {
        let field = if matches!(backend, DeployBackend::Service { .. }) { "backend.service" } else { "version" };
        problems.push(FieldError::new(field, format!("{reason}; used by API {}", names.join(", "))));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> ApiSpec {
        serde_json::from_value(json).expect("spec")
    }

    fn api(name: &str, backend: serde_json::Value) -> VersionApi {
        VersionApi {
            id: 1,
            spec: spec(serde_json::json!({"name": name, "request": {"method": "GET", "path": format!("/{name}")},
                "backend": backend})),
        }
    }

    fn directory() -> ServiceDirectory {
        let mut services = BTreeMap::new();
        services.insert("pets".to_owned(), (ServiceKind::Http, [Some("http://10.0.0.1:8080".into()), None, None]));
        services.insert("fake".to_owned(), (ServiceKind::Mock, [Some("mock".into()), None, None]));
        ServiceDirectory::new(services)
    }

    fn kind(target: &Target) -> String {
        match target {
            Target::Mock => "mock".into(),
            Target::Http(targets) => format!("http {}", targets.first().host()),
            Target::Unavailable(reason) => format!("unavailable: {reason}"),
            Target::Offline(reason) => format!("offline: {reason}"),
            Target::Function(_) => "function".into(),
        }
    }

    #[test]
    fn services_resolve_per_environment() {
        let services = directory();
        assert_eq!(kind(&services.resolve("pets", Environment::Test)), "http 10.0.0.1");
        assert_eq!(kind(&services.resolve("fake", Environment::Test)), "mock");
        assert!(kind(&services.resolve("pets", Environment::Prod)).contains("has no URL in Production"));
        assert!(kind(&services.resolve("nope", Environment::Test)).contains("does not exist"));
    }

    #[test]
    fn every_combination_of_api_and_release_backend_has_one_target() {
        let services = directory();
        let unified = api("u", serde_json::json!({"unified": true}));
        let own_http =
            api("h", serde_json::json!({"unified": false, "type": "http", "http": {"address": "http://own:9000"}}));
        let own_service = api("s", serde_json::json!({"unified": false, "type": "http", "http": {"service": "pets"}}));
        let own_mock = api("m", serde_json::json!({"unified": false, "type": "mock"}));
        let release_http = DeployBackend::Http { address: "http://release:80".into() };
        let release_service = DeployBackend::Service { service: "pets".into() };
        let bad_release = DeployBackend::Http { address: "not an address".into() };
        let target = |api: &VersionApi, backend: &DeployBackend| {
            kind(&target_of(&api.spec, backend, &services, Environment::Test))
        };
        assert_eq!(target(&unified, &DeployBackend::Mock), "mock");
        assert_eq!(target(&unified, &release_http), "http release");
        assert_eq!(target(&unified, &release_service), "http 10.0.0.1");
        assert!(target(&unified, &bad_release).starts_with("unavailable: release address"));
        for backend in [&DeployBackend::Mock, &release_http, &release_service] {
            assert_eq!(target(&own_http, backend), "http own", "an API's own backend ignores the release's");
            assert_eq!(target(&own_service, backend), "http 10.0.0.1");
            assert_eq!(target(&own_mock, backend), "mock");
        }
        assert_eq!(service_of(&unified.spec, &release_service), Some("pets"));
        assert_eq!(service_of(&unified.spec, &release_http), None);
        assert_eq!(service_of(&own_service.spec, &DeployBackend::Mock), Some("pets"));
        assert_eq!(service_of(&own_http.spec, &release_service), None);
    }

    #[test]
    fn release_problems_name_the_apis_per_missing_service() {
        let services = directory();
        let apis = [
            api("a", serde_json::json!({"unified": false, "type": "http", "http": {"service": "pets"}})),
            api("b", serde_json::json!({"unified": false, "type": "http", "http": {"service": "pets"}})),
            api("c", serde_json::json!({"unified": false, "type": "http", "http": {"service": "gone"}})),
        ];
        assert!(release_problems(&apis[..2], &DeployBackend::Mock, &services, Environment::Test).is_empty());
        let problems = release_problems(&apis, &DeployBackend::Mock, &services, Environment::Prod);
        let messages: Vec<_> = problems.iter().map(|p| (p.field.as_str(), p.message.as_str())).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].1.contains("`pets` has no URL in Production; used by API `a`, `b`"), "{messages:?}");
        assert!(messages[1].1.contains("`gone` does not exist; used by API `c`"), "{messages:?}");
        let unified = [api("u", serde_json::json!({"unified": true}))];
        let release = DeployBackend::Service { service: "pets".into() };
        let problems = release_problems(&unified, &release, &services, Environment::Prod);
        assert_eq!(problems[0].field, "backend.service");
    }
}
