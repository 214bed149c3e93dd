#!/usr/bin/env python3
"""An X-Ca request signer written from DESIGN.md's "Signature" section alone, independent of
Gantry's Rust code, so the gateway's verifier is checked against a second implementation.

Reads a JSON request on stdin:
  {method, path, query: [[k, v]...], headers: {name: value}, body, key, secret,
   timestamp (epoch ms), nonce, algorithm ("HmacSHA256" | "HmacSHA1")}
and prints {headers: {...all headers to send...}, string_to_sign}.
"""
import base64
import hashlib
import hmac
import json
import sys
from urllib.parse import parse_qsl


def sign(request):
    headers = {name.lower(): value for name, value in request.get("headers", {}).items()}
    headers["x-ca-key"] = request["key"]
    headers["x-ca-timestamp"] = str(request["timestamp"])
    headers["x-ca-nonce"] = request["nonce"]
    algorithm = request.get("algorithm", "HmacSHA256")
    headers["x-ca-signature-method"] = algorithm
    body = request.get("body", "").encode("utf-8")
    params = [tuple(pair) for pair in request.get("query", [])]
    if headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    elif body:
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")
    signed = sorted(n for n in headers if n.startswith("x-ca-") and n not in ("x-ca-signature", "x-ca-signature-headers"))
    headers["x-ca-signature-headers"] = ",".join(signed)
    text = "\n".join([
        request["method"].upper(),
        headers.get("accept", ""),
        headers.get("content-md5", ""),
        headers.get("content-type", ""),
        headers.get("date", ""),
    ]) + "\n"
    text += "".join(f"{name}:{headers[name]}\n" for name in signed)
    text += request["path"]
    if params:
        text += "?" + "&".join(k if v == "" else f"{k}={v}" for k, v in sorted(params))
    digest = hashlib.sha1 if algorithm == "HmacSHA1" else hashlib.sha256
    mac = hmac.new(request["secret"].encode("utf-8"), text.encode("utf-8"), digest).digest()
    headers["x-ca-signature"] = base64.b64encode(mac).decode("ascii")
    return {"headers": headers, "string_to_sign": text}


if __name__ == "__main__":
    print(json.dumps(sign(json.load(sys.stdin))))
