"""A small OpenID Connect issuer on 127.0.0.1: discovery, a key set, signed tokens.

It replaces a provider such as Keycloak in tests of token verification and of the
workbench's sign-in. It serves real HTTP from a thread, signs with RSA keys it
makes itself, and can rotate to a new key. Its authorization endpoint signs in
one fixed officer at once, and its token endpoint checks the PKCE verifier.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class LocalOidcIssuer:
    def __init__(self) -> None:
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self.current_kid = self.rotate()
        self.discovery_issuer: str | None = None
        self.requests: list[str] = []
        # Authorization codes given out: code -> (PKCE challenge, client, redirect).
        self._codes: dict[str, tuple[str, str, str]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/realms/dingze"

    def start(self) -> "LocalOidcIssuer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def rotate(self) -> str:
        """Add a new signing key to the key set and sign with it from now on."""
        kid = uuid.uuid4().hex[:12]
        self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.current_kid = kid
        return kid

    def token(
        self,
        audience: str = "dingze-liability",
        roles: list[str] | None = None,
        lifetime_seconds: int = 300,
        key: rsa.RSAPrivateKey | None = None,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": audience,
            "sub": "f3c1a2b4",
            "iat": now,
            "exp": now + lifetime_seconds,
            "name": "王磊",
            "badge_number": "330102",
            "realm_access": {"roles": roles if roles is not None else ["officer"]},
            **extra,
        }
        signing_key = key or self._keys[self.current_kid]
        return jwt.encode(
            claims, signing_key, algorithm="RS256", headers={"kid": self.current_kid}
        )

    def _jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._keys.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def _authorize(self, query: dict[str, list[str]]) -> str:
        """Return the redirect back to the client with a new code."""
        code = secrets.token_urlsafe(16)
        redirect = query["redirect_uri"][0]
        self._codes[code] = (
            query["code_challenge"][0],
            query["client_id"][0],
            redirect,
        )
        return f"{redirect}?{urlencode({'code': code, 'state': query['state'][0]})}"

    def _exchange(self, form: dict[str, list[str]]) -> dict[str, Any] | None:
        found = self._codes.pop(form.get("code", [""])[0], None)
        if found is None:
            return None
        challenge, client_id, redirect = found
        verifier = form.get("code_verifier", [""])[0]
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if (
            computed != challenge
            or form.get("client_id", [""])[0] != client_id
            or form.get("redirect_uri", [""])[0] != redirect
        ):
            return None
        return {"access_token": self.token(), "token_type": "Bearer"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self
        prefix = "/realms/dingze"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                path, _, query = self.path.partition("?")
                if path == f"{prefix}/.well-known/openid-configuration":
                    connect = f"{issuer.url}/protocol/openid-connect"
                    self._json(
                        200,
                        {
                            "issuer": issuer.discovery_issuer or issuer.url,
                            "jwks_uri": f"{issuer.url}/certs",
                            "authorization_endpoint": f"{connect}/auth",
                            "token_endpoint": f"{connect}/token",
                        },
                    )
                elif path == f"{prefix}/certs":
                    self._json(200, issuer._jwks())
                elif path == f"{prefix}/protocol/openid-connect/auth":
                    self.send_response(302)
                    self.send_header("location", issuer._authorize(parse_qs(query)))
                    self.end_headers()
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                issuer.requests.append(self.path)
                token_path = f"{prefix}/protocol/openid-connect/token"
                if urlsplit(self.path).path != token_path:
                    self.send_error(404)
                    return
                length = int(self.headers.get("content-length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                tokens = issuer._exchange(form)
                if tokens is None:
                    self._json(400, {"error": "invalid_grant"})
                    return
                self._json(200, tokens)

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                # The workbench page calls the token endpoint from its own origin.
                self.send_header("access-control-allow-origin", "*")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
