//! SDK & Docs: generated from what is live in an environment.
//!
//! - Docs: each API's method, full URL, environment header, parameters, authentication, a curl
//!   example, response examples and the gateway's error codes; as Markdown and as HTML.
//! - SDKs: a single-file Python client and a single-file TypeScript client, one method per
//!   API with typed parameters, AppCode and X-Ca signing built in.

use crate::openapi::operation_id;
use crate::{Control, ControlError};
use domain::api::{ApiSpec, AuthType, ParamLocation, ParamType};
use domain::Environment;

/// A generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Suggested file name.
    pub file_name: String,
    /// MIME type.
    pub content_type: &'static str,
    /// Content.
    pub content: String,
}

/// What a generator needs to know about the group and environment.
struct Target<'a> {
    group: &'a str,
    env: Environment,
    version: &'a str,
    base_url: &'a str,
    /// The same group on the HTTPS listener (HTTPS-only APIs are called there).
    https_base_url: &'a str,
    apis: &'a [ApiSpec],
}

fn https_only(spec: &ApiSpec) -> bool {
    spec.request.protocol == domain::api::ApiProtocol::Https
}

/// The gateway's error codes, for the docs.
const ERROR_CODES: [(&str, u16, &str); 19] = [
    ("NotFound", 404, "no group, deployment or API matches (or the API is off-line here)"),
    ("InvalidStage", 400, "X-Ca-Stage is not TEST, PRE or RELEASE"),
    ("MethodNotAllowed", 405, "the path exists with other methods"),
    ("InvalidParameter", 400, "a declared parameter is missing or invalid"),
    ("InvalidBody", 400, "the request body is malformed (a bad chunk) or ended before its length"),
    ("MissingCredentials", 401, "an app API was called without AppCode or signature"),
    ("InvalidAppKey", 401, "no app has this X-Ca-Key"),
    ("InvalidAppCode", 401, "no app has this AppCode"),
    ("InvalidTimestamp", 401, "X-Ca-Timestamp is missing or more than 15 minutes off"),
    ("InvalidNonce", 401, "X-Ca-Nonce is missing or was used before"),
    ("InvalidSignature", 401, "the signature does not match; X-Ca-Error-Message shows the server's StringToSign"),
    ("Unauthorized", 403, "the app is not authorized for this API here (or the authorization expired)"),
    ("AppDisabled", 403, "the app is disabled"),
    ("IpDenied", 403, "an IP access policy refuses the caller's address"),
    ("Throttled", 429, "a throttling policy's limit is reached; Retry-After says when to try again"),
    ("BadGateway", 502, "the backend could not be reached (FunctionError: the function failed)"),
    ("GatewayTimeout", 504, "the backend did not answer in time"),
    ("NoHealthyUpstream", 503, "every target of the backend is out (failing or down); try again shortly"),
    ("UpstreamBusy", 503, "the backend's targets stayed at their connection limit for the API's timeout"),
];

fn url_of(target: &Target<'_>, spec: &ApiSpec) -> String {
    let base = if https_only(spec) { target.https_base_url } else { target.base_url };
    format!("{base}{}", spec.request.path)
}

fn method_of(spec: &ApiSpec) -> String {
    match spec.request.method.to_ascii_uppercase().as_str() {
        "ANY" => "GET".into(),
        other => other.to_owned(),
    }
}

fn curl(target: &Target<'_>, spec: &ApiSpec) -> String {
    let mut url = url_of(target, spec);
    let query: Vec<String> = spec
        .request
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Query)
        .map(|p| format!("{}=<{}>", p.name, p.name))
        .collect();
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let mut lines =
        vec![format!("curl -X {} '{url}'", method_of(spec)), format!("  -H 'X-Ca-Stage: {}'", target.env.stage())];
    for p in spec.request.params.iter().filter(|p| p.location == ParamLocation::Header) {
        lines.push(format!("  -H '{}: <{}>'", p.name, p.name));
    }
    if spec.auth == AuthType::App {
        lines.push("  -H 'Authorization: APPCODE <your AppCode>'".into());
    }
    let form: Vec<&str> =
        spec.request.params.iter().filter(|p| p.location == ParamLocation::Form).map(|p| p.name.as_str()).collect();
    let body: Vec<&str> =
        spec.request.params.iter().filter(|p| p.location == ParamLocation::Body).map(|p| p.name.as_str()).collect();
    if !form.is_empty() {
        lines.push(format!("  --data '{}'", form.iter().map(|f| format!("{f}=<{f}>")).collect::<Vec<_>>().join("&")));
    } else if !body.is_empty() {
        lines.push("  -H 'Content-Type: application/json'".into());
        lines.push(format!(
            "  --data '{{{}}}'",
            body.iter().map(|f| format!("\"{f}\": \"<{f}>\"")).collect::<Vec<_>>().join(", ")
        ));
    }
    lines.join(" \\\n")
}

fn markdown(target: &Target<'_>) -> String {
    let mut out = format!(
        "# {} API ({})\n\nVersion {} live in {}. Base URL `{}`; every request carries `X-Ca-Stage: {}`.\n\n",
        target.group,
        target.env.label(),
        target.version,
        target.env.label(),
        target.base_url,
        target.env.stage()
    );
    out.push_str("## Authentication\n\nAPIs marked *App* need an app authorized for them in this environment: send `Authorization: APPCODE <AppCode>`, or sign the request with the AppKey and AppSecret (X-Ca signature, compatible with Alibaba Cloud API Gateway SDKs; the generated SDKs do it for you).\n\n");
    for spec in target.apis {
        out.push_str(&format!("## {}\n\n", spec.name));
        if !spec.description.is_empty() {
            out.push_str(&format!("{}\n\n", spec.description));
        }
        out.push_str(&format!("`{} {}`\n\n", method_of(spec), url_of(target, spec)));
        out.push_str(&format!(
            "Authentication: {}\n\n",
            if spec.auth == AuthType::App { "App (AppCode or X-Ca signature)" } else { "None" }
        ));
        if !spec.request.params.is_empty() {
            out.push_str("| Parameter | In | Type | Required | Default | Description |\n|---|---|---|---|---|---|\n");
            for p in &spec.request.params {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} | {} |\n",
                    p.name,
                    p.location.as_str(),
                    p.kind.as_str(),
                    if p.required || p.location == ParamLocation::Path { "yes" } else { "no" },
                    p.default.clone().unwrap_or_default(),
                    p.description.replace('|', "\\|")
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!("Request example:\n\n```sh\n{}\n```\n\n", curl(target, spec)));
        if !spec.response.success_example.is_empty() {
            out.push_str(&format!(
                "Response example ({}):\n\n```\n{}\n```\n\n",
                spec.response.content_type, spec.response.success_example
            ));
        }
        if !spec.response.error_example.is_empty() {
            out.push_str(&format!("Error example:\n\n```\n{}\n```\n\n", spec.response.error_example));
        }
    }
    out.push_str("## Error codes\n\nErrors are JSON `{\"code\", \"message\", \"request_id\"}` with `X-Ca-Error-Code`, `X-Ca-Error-Message` and `X-Ca-Request-Id`.\n\n| Code | Status | Meaning |\n|---|---|---|\n");
    for (code, status, meaning) in ERROR_CODES {
        out.push_str(&format!("| `{code}` | {status} | {meaning} |\n"));
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Whether a link in user-written Markdown may stay a link: web and mail addresses and
/// relative ones, never `javascript:`, `data:` or other schemes a browser would run.
fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // A colon after a `/`, `?` or `#` is part of a relative address, not a scheme.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// The docs as HTML, rendered by pulldown-cmark. User text is Markdown text only: raw HTML in
/// it is shown as text, and links to other than web or mail addresses lose their target.
fn html(target: &Target<'_>, markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_link(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: "#".into(), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe_link(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: "#".into(), title, id })
        }
        other => other,
    });
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{} API ({})</title><style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}pre{{background:#f4f4f4;padding:8px}}</style></head><body>\n{body}</body></html>\n",
        escape(target.group),
        target.env.label()
    )
}

/// A string literal valid in both Python and TypeScript source: JSON's escapes are a subset
/// of both languages' (`{:?}` is not: Rust writes `\u{200b}`, which Python refuses).
fn lit(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

/// User text made safe inside a comment of generated code: line breaks (also U+2028 and
/// U+2029, which end a line in JavaScript) and other control characters become spaces, the
/// block-comment terminator is broken up, and quotes and backslashes cannot end or escape a
/// Python docstring.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() || c == '\u{2028}' || c == '\u{2029}' { ' ' } else { c })
        .collect::<String>()
        .replace("*/", "* /")
        .replace('\\', "/")
        .replace('"', "'")
}

/// Python's keywords and soft keywords, and the names a generated method's body uses, which a
/// parameter of the same name would shadow.
const PYTHON_RESERVED: [&str; 47] = [
    "false", "none", "true", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "type", "_",
    // Used by the generated code itself.
    "self", "headers", "extra", "dict", "str", "urllib", "k", "v",
];

fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || PYTHON_RESERVED.contains(&out.as_str()) {
        format!("p_{out}")
    } else {
        out
    }
}

/// Unique identifiers for names, using `make` and numbering clashes.
fn unique(names: &[String], make: fn(&str) -> String) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let base = make(name);
        let mut candidate = base.clone();
        let mut n = 2;
        while out.contains(&candidate) {
            candidate = format!("{base}{n}");
            n += 1;
        }
        out.push(candidate);
    }
    out
}

fn camel(name: &str) -> String {
    let id = operation_id(name);
    // Method names may be keywords in a class body; these would clash with the class's own
    // members or read oddly.
    const RESERVED: [&str; 11] =
        ["delete", "new", "default", "function", "class", "return", "this", "constructor", "send", "sign", "options"];
    let valid = id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !valid {
        format!("api{}", id.chars().filter(char::is_ascii_alphanumeric).collect::<String>())
    } else if RESERVED.contains(&id.as_str()) {
        format!("{id}Api")
    } else {
        id
    }
}

fn python(target: &Target<'_>) -> String {
    let mut out = format!(
        r#""""Python client for the `{group}` API group, {env} (version {version}), generated by Gantry.

    client = Client(app_key="...", app_secret="...")   # sign requests (X-Ca HMAC-SHA256)
    client = Client(app_code="...")                     # or send the AppCode
    response = client.{example}(...)                     # -> Response(status, headers, body)

Standard library only (Python 3.8+).
"""
import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BASE_URL = {base}
HTTPS_BASE_URL = {https_base}
STAGE = {stage}


class Response:
    """What the gateway answered."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Response(status=%d)" % self.status


class Client:
    def __init__(self, base_url=BASE_URL, app_key=None, app_secret=None, app_code=None, stage=STAGE, host=None, timeout=30,
                 https_base_url=HTTPS_BASE_URL, ssl_context=None):
        self.base_url = base_url.rstrip("/")
        # HTTPS-only APIs are called here; ssl_context e.g. trusts a private CA.
        self.https_base_url, self.ssl_context = https_base_url.rstrip("/"), ssl_context
        self.app_key, self.app_secret, self.app_code = app_key, app_secret, app_code
        self.stage, self.host, self.timeout = stage, host, timeout

    def _sign(self, method, path, params, headers, body):
        headers["x-ca-key"] = self.app_key
        headers["x-ca-timestamp"] = str(int(time.time() * 1000))
        headers["x-ca-nonce"] = str(uuid.uuid4())
        headers["x-ca-signature-method"] = "HmacSHA256"
        if body and not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        signed = sorted(k for k in headers if k.startswith("x-ca-") and k not in ("x-ca-signature", "x-ca-signature-headers"))
        headers["x-ca-signature-headers"] = ",".join(signed)
        text = "\n".join([method, headers.get("accept", ""), headers.get("content-md5", ""),
                          headers.get("content-type", ""), headers.get("date", "")]) + "\n"
        text += "".join("%s:%s\n" % (k, headers[k]) for k in signed) + path
        if params:
            text += "?" + "&".join(k if v == "" else "%s=%s" % (k, v) for k, v in sorted(params))
        digest = hmac.new(self.app_secret.encode(), text.encode(), hashlib.sha256).digest()
        headers["x-ca-signature"] = base64.b64encode(digest).decode()

    def _send(self, method, path, query, headers, form=None, json_body=None, https=False):
        query = [(k, str(v)) for k, v in query if v is not None]
        headers = {{k.lower(): str(v) for k, v in headers.items() if v is not None}}
        headers.setdefault("accept", "application/json")
        headers["x-ca-stage"] = self.stage
        body, params = b"", list(query)
        form = [(k, str(v)) for k, v in (form or []) if v is not None]
        json_body = {{k: v for k, v in (json_body or {{}}).items() if v is not None}}
        if form:
            headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8"
            body = urllib.parse.urlencode(form).encode()
            params += form
        elif json_body:
            headers["content-type"] = "application/json; charset=utf-8"
            body = json.dumps(json_body).encode()
        if self.app_code:
            headers["authorization"] = "APPCODE " + self.app_code
        elif self.app_key and self.app_secret:
            self._sign(method, path, params, headers, body)
        if self.host:
            headers["host"] = self.host
        base = self.https_base_url if https else self.base_url
        url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.ssl_context if https else None) as response:
                return Response(response.status, {{k.lower(): v for k, v in response.headers.items()}}, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return Response(error.code, {{k.lower(): v for k, v in error.headers.items()}}, error.read().decode("utf-8", "replace"))
"#,
        group = comment(target.group),
        env = target.env.label(),
        version = comment(target.version),
        example = target.apis.first().map(|a| snake(&a.name)).unwrap_or_else(|| "call".into()),
        base = lit(target.base_url),
        https_base = lit(target.https_base_url),
        stage = lit(target.env.stage()),
    );
    let names = unique(&target.apis.iter().map(|a| a.name.clone()).collect::<Vec<_>>(), snake);
    for (spec, method_name) in target.apis.iter().zip(names) {
        let params = &spec.request.params;
        let ids = unique(&params.iter().map(|p| p.name.clone()).collect::<Vec<_>>(), snake);
        let required =
            |p: &domain::api::ParamSpec| (p.required || p.location == ParamLocation::Path) && p.default.is_none();
        let mut signature = vec!["self".to_owned()];
        for (p, id) in params.iter().zip(&ids).filter(|(p, _)| required(p)) {
            signature.push(format!("{id}: {}", py_type(p.kind)));
            let _ = p;
        }
        for (p, id) in params.iter().zip(&ids).filter(|(p, _)| !required(p)) {
            let default = p.default.as_deref().map(lit).unwrap_or_else(|| "None".into());
            signature.push(format!("{id}: \"{} | None\" = {default}", py_type(p.kind)));
        }
        signature.push("headers=None".into());
        let mut path_expr = String::new();
        for segment in spec.request.path.split('/').filter(|s| !s.is_empty()) {
            path_expr.push_str(" + \"/\" + ");
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    let id = params
                        .iter()
                        .zip(&ids)
                        .find(|(p, _)| p.name == name)
                        .map(|(_, id)| id.clone())
                        .unwrap_or_else(|| snake(name));
                    path_expr.push_str(&format!("urllib.parse.quote(str({id}), safe=\"\")"));
                }
                None => path_expr.push_str(&lit(segment)),
            }
        }
        let path_expr =
            if path_expr.is_empty() { "\"/\"".to_owned() } else { path_expr.trim_start_matches(" + ").to_owned() };
        let pick = |location: ParamLocation| {
            params
                .iter()
                .zip(&ids)
                .filter(|(p, _)| p.location == location)
                .map(|(p, id)| format!("({}, {id})", lit(&p.name)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let json_fields = params
            .iter()
            .zip(&ids)
            .filter(|(p, _)| p.location == ParamLocation::Body)
            .map(|(p, id)| format!("{}: {id}", lit(&p.name)))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "\n    def {method_name}({}):\n        {}\n        extra = dict(headers or {{}})\n        extra.update({{k: v for k, v in [{}]}})\n        return self._send({}, {path_expr}, [{}], extra, form=[{}], json_body={{{json_fields}}}{})\n",
            signature.join(", "),
            lit(&format!(
                "{} {} ({}){}",
                method_of(spec),
                spec.request.path,
                spec.name,
                if spec.auth == AuthType::App { "; needs an app" } else { "" }
            )),
            pick(ParamLocation::Header),
            lit(&method_of(spec)),
            pick(ParamLocation::Query),
            pick(ParamLocation::Form),
            if https_only(spec) { ", https=True" } else { "" },
        ));
    }
    out
}

fn py_type(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "str",
        ParamType::Int => "int",
        ParamType::Number => "float",
        ParamType::Boolean => "bool",
    }
}

fn ts_type(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "string",
        ParamType::Int | ParamType::Number => "number",
        ParamType::Boolean => "boolean",
    }
}

fn typescript(target: &Target<'_>) -> String {
    let mut out = format!(
        r#"// TypeScript client for the `{group}` API group, {env} (version {version}), generated by Gantry.
//
//   const client = new Client({{ appKey: '...', appSecret: '...' }}); // sign (X-Ca HMAC-SHA256)
//   const client = new Client({{ appCode: '...' }});                    // or send the AppCode
//   const response = await client.{example}({{ ... }});
//
// Runs in browsers and Node 18+ (fetch and WebCrypto). Signed requests do not send Content-MD5
// (WebCrypto has no MD5); form fields and the query are signed.

export const BASE_URL = {base};
/** HTTPS-only APIs are called here. */
export const HTTPS_BASE_URL = {https_base};
export const STAGE = {stage};

export interface ClientOptions {{
  baseUrl?: string;
  httpsBaseUrl?: string;
  appKey?: string;
  appSecret?: string;
  appCode?: string;
  stage?: string;
  /** A fetch to use instead of the global one (e.g. to set a Host header in tests). */
  fetch?: (url: string, init: {{ method: string; headers: Record<string, string>; body?: string }}) => Promise<{{ status: number; headers: {{ forEach(f: (value: string, key: string) => void): void }}; text(): Promise<string> }}>;
}}

export interface ApiResponse {{
  status: number;
  headers: Record<string, string>;
  body: string;
}}

type Pairs = [string, string][];

function base64(bytes: ArrayBuffer): string {{
  let binary = '';
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}}

export class Client {{
  constructor(private readonly options: ClientOptions = {{}}) {{}}

  private async sign(method: string, path: string, params: Pairs, headers: Record<string, string>): Promise<void> {{
    headers['x-ca-key'] = this.options.appKey ?? '';
    headers['x-ca-timestamp'] = String(Date.now());
    headers['x-ca-nonce'] = crypto.randomUUID();
    headers['x-ca-signature-method'] = 'HmacSHA256';
    const signed = Object.keys(headers).filter((k) => k.startsWith('x-ca-') && k !== 'x-ca-signature' && k !== 'x-ca-signature-headers').sort();
    headers['x-ca-signature-headers'] = signed.join(',');
    let text = [method, headers['accept'] ?? '', headers['content-md5'] ?? '', headers['content-type'] ?? '', headers['date'] ?? ''].join('\n') + '\n';
    text += signed.map((k) => `${{k}}:${{headers[k]}}\n`).join('') + path;
    if (params.length > 0) {{
      const sorted = [...params].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      text += '?' + sorted.map(([k, v]) => (v === '' ? k : `${{k}}=${{v}}`)).join('&');
    }}
    const encoder = new TextEncoder();
    const key = await crypto.subtle.importKey('raw', encoder.encode(this.options.appSecret ?? ''), {{ name: 'HMAC', hash: 'SHA-256' }}, false, ['sign']);
    headers['x-ca-signature'] = base64(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));
  }}

  private async send(method: string, path: string, query: Pairs, extra: Record<string, string>, form: Pairs, json: Record<string, unknown>, https = false): Promise<ApiResponse> {{
    const headers: Record<string, string> = {{ accept: 'application/json' }};
    for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
    headers['x-ca-stage'] = this.options.stage ?? STAGE;
    const params: Pairs = [...query];
    let body: string | undefined;
    if (form.length > 0) {{
      headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
      body = new URLSearchParams(form).toString();
      params.push(...form);
    }} else if (Object.keys(json).length > 0) {{
      headers['content-type'] = 'application/json; charset=utf-8';
      body = JSON.stringify(json);
    }}
    if (this.options.appCode) headers['authorization'] = `APPCODE ${{this.options.appCode}}`;
    else if (this.options.appKey && this.options.appSecret) await this.sign(method, path, params, headers);
    const search = query.length > 0 ? '?' + new URLSearchParams(query).toString() : '';
    const base = https ? (this.options.httpsBaseUrl ?? HTTPS_BASE_URL) : (this.options.baseUrl ?? BASE_URL);
    const url = base.replace(/\/$/, '') + path + search;
    const call = this.options.fetch ?? ((u: string, init: {{ method: string; headers: Record<string, string>; body?: string }}) => fetch(u, init));
    const response = await call(url, {{ method, headers, body }});
    const out: Record<string, string> = {{}};
    response.headers.forEach((value, key) => {{ out[key] = value; }});
    return {{ status: response.status, headers: out, body: await response.text() }};
  }}
"#,
        group = comment(target.group),
        env = target.env.label(),
        version = comment(target.version),
        example = target.apis.first().map(|a| camel(&a.name)).unwrap_or_else(|| "call".into()),
        base = lit(target.base_url),
        https_base = lit(target.https_base_url),
        stage = lit(target.env.stage()),
    );
    let names = unique(&target.apis.iter().map(|a| a.name.clone()).collect::<Vec<_>>(), camel);
    for (spec, method_name) in target.apis.iter().zip(names) {
        let params = &spec.request.params;
        let fields: Vec<String> = params
            .iter()
            .map(|p| {
                let optional = !(p.required || p.location == ParamLocation::Path) || p.default.is_some();
                format!("{}{}: {}", lit(&p.name), if optional { "?" } else { "" }, ts_type(p.kind))
            })
            .collect();
        let all_optional =
            params.iter().all(|p| !(p.required || p.location == ParamLocation::Path) || p.default.is_some());
        let value = |p: &domain::api::ParamSpec| match &p.default {
            Some(d) => format!("String(params[{}] ?? {})", lit(&p.name), lit(d)),
            None => format!("String(params[{}])", lit(&p.name)),
        };
        let has = |p: &domain::api::ParamSpec| {
            if p.default.is_some() {
                "true".to_owned()
            } else {
                format!("params[{}] !== undefined", lit(&p.name))
            }
        };
        let mut path_expr = String::from("''");
        for segment in spec.request.path.split('/').filter(|s| !s.is_empty()) {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    path_expr.push_str(&format!(" + '/' + encodeURIComponent(String(params[{}]))", lit(name)))
                }
                None => path_expr.push_str(&format!(" + '/' + {}", lit(segment))),
            }
        }
        if path_expr == "''" {
            path_expr = "'/'".into();
        }
        let list = |location: ParamLocation| {
            params
                .iter()
                .filter(|p| p.location == location)
                .map(|p| {
                    format!("      ...({} ? [[{}, {}] as [string, string]] : []),\n", has(p), lit(&p.name), value(p))
                })
                .collect::<String>()
        };
        let headers = params
            .iter()
            .filter(|p| p.location == ParamLocation::Header)
            .map(|p| format!("    if ({}) extra[{}] = {};\n", has(p), lit(&p.name), value(p)))
            .collect::<String>();
        let json = params
            .iter()
            .filter(|p| p.location == ParamLocation::Body)
            .map(|p| format!("    if ({}) json[{name}] = params[{name}];\n", has(p), name = lit(&p.name)))
            .collect::<String>();
        out.push_str(&format!(
            "\n  /** {} {} ({}){} */\n  async {method_name}(params: {{ {} }}{}, headers: Record<string, string> = {{}}): Promise<ApiResponse> {{\n    const extra: Record<string, string> = {{ ...headers }};\n{headers}    const json: Record<string, unknown> = {{}};\n{json}    return this.send({}, {path_expr}, [\n{}    ], extra, [\n{}    ], json{});\n  }}\n",
            method_of(spec),
            comment(&spec.request.path),
            comment(&spec.name),
            if spec.auth == AuthType::App { "; needs an app" } else { "" },
            fields.join("; "),
            if all_optional { " = {}" } else { "" },
            lit(&method_of(spec)),
            list(ParamLocation::Query),
            list(ParamLocation::Form),
            if https_only(spec) { ", true" } else { "" },
        ));
    }
    out.push_str("}\n");
    out
}

/// The kinds of generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifact {
    /// Docs as Markdown.
    Markdown,
    /// Docs as HTML.
    Html,
    /// The Python client.
    Python,
    /// The TypeScript client.
    TypeScript,
}

impl Artifact {
    /// `markdown`, `html`, `python` or `typescript`.
    pub fn parse(raw: &str) -> Result<Artifact, ControlError> {
        match raw {
            "markdown" | "md" => Ok(Artifact::Markdown),
            "html" => Ok(Artifact::Html),
            "python" | "py" => Ok(Artifact::Python),
            "typescript" | "ts" => Ok(Artifact::TypeScript),
            other => {
                Err(ControlError::field("format", format!("`{other}` is not markdown, html, python or typescript")))
            }
        }
    }
}

impl Control {
    /// Docs or an SDK for what is live in `env`.
    pub async fn generate(&self, group: &str, env: Environment, artifact: Artifact) -> Result<Generated, ControlError> {
        let found = self.find_group(group).await?;
        let export = crate::openapi::Source::Live(env);
        let (version, apis) = self.source_apis(group, &export).await?;
        let specs: Vec<ApiSpec> = apis.into_iter().map(|a| a.spec).collect();
        let base_url = self.group_url(&found.subdomain);
        let https_base_url = self.group_https_url(&found.subdomain);
        let target = Target {
            group: &found.name,
            env,
            version: &version,
            base_url: &base_url,
            https_base_url: &https_base_url,
            apis: &specs,
        };
        let stem = format!("{}-{}", found.name, env.as_str());
        Ok(match artifact {
            Artifact::Markdown => Generated {
                file_name: format!("{stem}.md"),
                content_type: "text/markdown; charset=utf-8",
                content: markdown(&target),
            },
            Artifact::Html => Generated {
                file_name: format!("{stem}.html"),
                content_type: "text/html; charset=utf-8",
                content: html(&target, &markdown(&target)),
            },
            Artifact::Python => Generated {
                file_name: format!("{}_{}.py", snake(&found.name), env.as_str()),
                content_type: "text/x-python; charset=utf-8",
                content: python(&target),
            },
            Artifact::TypeScript => Generated {
                file_name: format!("{stem}.ts"),
                content_type: "text/plain; charset=utf-8",
                content: typescript(&target),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_safe_and_unique() {
        assert_eq!(snake("Get Pet ById"), "get_pet_by_id");
        assert_eq!(snake("petId"), "pet_id");
        assert_eq!(snake("class"), "p_class");
        assert_eq!(unique(&["a b".into(), "a-b".into()], snake), ["a_b", "a_b2"]);
        assert_eq!(camel("Delete"), "deleteApi");
    }
}
