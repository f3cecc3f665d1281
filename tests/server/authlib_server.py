"""A real Authlib (Python) token endpoint for tests/js/authlib.test.mjs: the refresh-token
grant with rotation, one confidential client, everything in memory. It listens on
127.0.0.1 on a free port and prints one JSON line: {"port", "refreshToken"} (the first
refresh token, minted directly: no browser). GET /stats gives the request counts; POST
/mint mints another first refresh token. Stops when its stdin closes.

Authlib decodes the Basic credential with `unquote`, not `unquote_plus` (a `+` stays a
`+`): a client that form-encodes a space as `+` is refused here.
"""

import json
import logging
import secrets
import sys
import threading

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from flask import Flask, jsonify
from werkzeug.serving import make_server

CLIENT_ID = sys.argv[1]
CLIENT_SECRET = sys.argv[2]

app = Flask(__name__)
# A new refresh token with every refresh (rotation), the old one revoked.
app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
tokens = {}  # refresh token -> Token
stats = {"tokenRequests": 0, "refused": 0, "reuse": 0}
lock = threading.Lock()


class Client(ClientMixin):
    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "refresh_token"


class Token(TokenMixin):
    def __init__(self, refresh_token, scope):
        self.refresh_token = refresh_token
        self.scope = scope
        self.revoked = False

    def check_client(self, client):
        return client.get_client_id() == CLIENT_ID

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return 3600

    def is_expired(self):
        return False

    def is_revoked(self):
        return self.revoked


class RefreshTokenGrant(grants.RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        t = tokens.get(refresh_token)
        if t is not None and t.revoked:
            stats["reuse"] += 1
        return t if t is not None and not t.revoked else None

    def authenticate_user(self, credential):
        return {"id": "user-1"}

    def revoke_old_credential(self, credential):
        credential.revoked = True


def query_client(client_id):
    return Client() if client_id == CLIENT_ID else None


def save_token(token, request):
    if "refresh_token" in token:
        tokens[token["refresh_token"]] = Token(token["refresh_token"], token.get("scope"))


server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
server.register_grant(RefreshTokenGrant)


def mint():
    rt = "rt-" + secrets.token_urlsafe(24)
    tokens[rt] = Token(rt, "read write")
    return rt


@app.post("/token")
def token():
    with lock:  # one request at a time: the counts and the rotation stay exact
        stats["tokenRequests"] += 1
        response = server.create_token_response()
        if response.status_code != 200:
            stats["refused"] += 1
        return response


@app.get("/stats")
def get_stats():
    return jsonify(stats)


@app.post("/mint")
def post_mint():
    return jsonify({"refreshToken": mint()})


if __name__ == "__main__":
    # Each request is not news; errors still reach stderr, which the test shows.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(json.dumps({"port": httpd.server_port, "refreshToken": mint()}), flush=True)
    sys.stdin.read()  # the test's end closes it
    httpd.shutdown()
