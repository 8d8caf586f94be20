"""A small OpenID Connect issuer on 127.0.0.1: discovery, a key set, signed tokens.

It replaces a provider such as Keycloak in tests of token verification. It
serves real HTTP from a thread, signs with RSA keys it makes itself, and can
rotate to a new key.
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class LocalOidcIssuer:
    def __init__(self) -> None:
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self.current_kid = self.rotate()
        self.discovery_issuer: str | None = None
        self.requests: list[str] = []
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

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                base = issuer.url.split("/realms", 1)[0]
                if self.path == "/realms/dingze/.well-known/openid-configuration":
                    body: dict[str, Any] = {
                        "issuer": issuer.discovery_issuer or issuer.url,
                        "jwks_uri": f"{base}/realms/dingze/certs",
                    }
                elif self.path == "/realms/dingze/certs":
                    body = issuer._jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
