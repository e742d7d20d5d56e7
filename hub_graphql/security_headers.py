"""Response headers every page and answer of the hub carries: a Content-Security-Policy on HTML, no sniffing, no framing."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # Scripts only from files the hub serves: no inline script, no eval, no CDN.
        "script-src 'self'",
        # Inline styles stay allowed: editors (CodeMirror, Monaco) set them; they cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""The policy of every text/html response (GraphiQL, and any page added later: storefront, dashboard)."""

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """ASGI middleware: `nosniff` and `X-Frame-Options: DENY` on every response, the CSP on HTML ones.

    Pages need nothing of their own: any response whose type is text/html gets the policy,
    unless it set one itself.
    """

    def __init__(self, app: ASGIApp, policy: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").lower().startswith("text/html"):
                    headers.setdefault("content-security-policy", self.policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
