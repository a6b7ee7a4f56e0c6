"""The HTTP API (FastAPI): recommendations, explanations, similar items, health.

``create_app(scores, settings, token=...)`` builds the app; ``kgrec serve`` runs
it with uvicorn on 127.0.0.1. The connection to Neo4j is opened lazily and
dropped when Neo4j goes away: while it is unreachable every request that needs
it answers 503, and the first request after Neo4j returns reconnects, without
a restart. Unknown users or items answer 404 with a message; out-of-range or
malformed parameters 422 (FastAPI's validation), and so do ``where`` filters with
an unknown key or a value no node has; a missing or wrong bearer
token 401 when a token is set.

(No ``from __future__ import annotations`` here: FastAPI reads the annotations
of the route functions, some of which name local aliases, at run time.)
"""

import logging
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import pydantic_core
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kgrec.errors import ConfigError, GraphUnavailableError, KgrecError, NotFoundError
from kgrec.graph.answers import AnswerGraph, Filters, connect_for_service
from kgrec.graph.store import GraphStore
from kgrec.graph.where import parse_where
from kgrec.recommend.model import ModelScores
from kgrec.recommend.service import Recommendations
from kgrec.settings import Settings

log = logging.getLogger(__name__)


class Connection:
    """The service over a lazily (re)opened Neo4j connection.

    Args:
        scores: The trained model.
        settings: Where Neo4j is.
    """

    def __init__(self, scores: ModelScores, settings: Settings) -> None:
        self.scores, self.settings = scores, settings
        self._store: GraphStore | None = None
        self._service: Recommendations | None = None
        self._lock = threading.Lock()

    def service(self) -> Recommendations:
        """The service, connecting first when needed (raises ``GraphUnavailableError``)."""
        with self._lock:
            if self._service is None:
                self._store = connect_for_service(self.settings)
                self._service = Recommendations(AnswerGraph(self._store), self.scores)
                log.info("connected to Neo4j at %s", self.settings.bolt_uri)
            return self._service

    def current(self) -> Recommendations | None:
        """The service when connected, else ``None`` (no lock: a read of one attribute)."""
        return self._service

    def warm(self) -> None:
        """Connect, read the neighbourhood explanation paths are found in and make the masking effects (a
        server calls this at start, in the background, so that the first requests do not wait for them)."""
        try:
            self.service().prepare()
            log.info("explanation paths ready")
        except KgrecError as e:
            log.warning("could not prepare explanation paths yet (%s); the first request will", e)

    def ready(self) -> bool:
        """Whether the neighbourhood and the masking effects are in memory (explanations wait for nothing)."""
        service = self._service
        return service is not None and service.ready

    def drop(self) -> None:
        """Forget the connection (after Neo4j went away); the next request reconnects."""
        with self._lock:
            if self._store is not None:
                self._store.close()
            self._store, self._service = None, None

    def close(self) -> None:
        """Close the connection."""
        self.drop()


class NewUser(BaseModel):
    """A user known only by a few liked items."""

    liked: list[int | str] = Field(min_length=1, max_length=500, description="Keys of items the user likes.")
    k: int = Field(10, ge=1, le=100, description="How many items.")
    explain: bool = Field(True, description="Find explanation paths.")


def create_app(scores: ModelScores, settings: Settings, *, token: str | None = None) -> FastAPI:
    """The API over one trained model and one Neo4j."""
    conn = Connection(scores, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=conn.warm, name="kgrec-warm", daemon=True).start()
        yield
        conn.close()

    app = FastAPI(
        title="kgrec",
        version="0.1.0",
        description="Knowledge-graph recommendations with explanations.",
        lifespan=lifespan,
    )
    app.state.connection = conn
    auth = _bearer(token)
    _errors(app, conn)

    async def service() -> Recommendations:
        # Connected: no thread. Connecting blocks (network), so it runs in the thread pool.
        return conn.current() or await run_in_threadpool(conn.service)

    Service = Annotated[Recommendations, Depends(service)]

    def answers(method: str, path: str, summary: str, *, one: bool = False) -> Callable[..., Any]:
        """A route behind the token whose reply is an answer, or a list of them (its OpenAPI schema)."""
        reply = dict[str, Any] if one else list[dict[str, Any]]
        return app.api_route(path, methods=[method], dependencies=[auth], response_model=reply, summary=summary)

    @app.get("/health", summary="Is the API up, and can it reach Neo4j?")
    def health() -> dict[str, Any]:
        conn.service().graph.ping()
        paths = "ready" if conn.ready() else "loading"
        return {"status": "ok", "neo4j": "reachable", "model": scores.name, "explanations": paths}

    @answers("GET", "/users/{user}/recommendations", "Top-k items for a user")
    async def recommendations(
        user: str,
        svc: Service,
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        explain: bool = True,
        genre: str | None = None,
        where: Annotated[
            list[str], Query(description="KEY=VALUE: only items linked to a node of kind KEY called VALUE.")
        ] = [],  # noqa: B006 - FastAPI copies query defaults
        label: Annotated[str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")] = None,
        year_min: Annotated[int | None, Query(ge=0, le=3000)] = None,
        year_max: Annotated[int | None, Query(ge=0, le=3000)] = None,
        exclude: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies query defaults
    ) -> Response:
        filters = Filters(
            label=label,
            genre=genre,
            where=parse_where(where),
            year_min=year_min,
            year_max=year_max,
            exclude=tuple(_key(x) for x in exclude),
        )
        return await _answer(lambda: svc.recommend(_key(user), k, filters=filters, explain=explain))

    @answers("POST", "/recommendations", "Top-k items for a new user given liked items")
    async def new_user(body: NewUser, svc: Service) -> Response:
        return await _answer(lambda: svc.recommend_for_items(body.liked, body.k, explain=body.explain))

    @answers("GET", "/users/{user}/explain/{item}", "Why an item suits a user", one=True)
    async def explanation(user: str, item: str, svc: Service) -> Response:
        return await _answer(lambda: svc.explain(_key(user), _key(item)))

    @answers("GET", "/items/{item}/similar", "Items like this one")
    async def similar(
        item: str,
        svc: Service,
        modality: Literal["fused", "text", "image"] = "fused",
        k: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> Response:
        return await _answer(lambda: svc.similar(_key(item), k, modality=modality))

    return app


async def _answer(work: Callable[[], Any]) -> Response:
    """Run ``work`` (it reads Neo4j and computes: blocking) in the thread pool and answer with its
    dataclasses as JSON, written by pydantic's serializer straight from them. One thread hop a
    request; FastAPI's own path would validate the answer against its ``response_model`` in another
    thread hop first, then encode it (about 2 ms an explained top-10, where the answer itself takes
    20 to 30 ms). Non-finite floats become ``null`` as before."""
    value = await run_in_threadpool(work)
    return Response(pydantic_core.to_json(value, inf_nan_mode="null"), media_type="application/json")


def _errors(app: FastAPI, conn: Connection) -> None:
    @app.exception_handler(NotFoundError)
    def not_found(_: Request, e: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(GraphUnavailableError)
    def unavailable(_: Request, e: GraphUnavailableError) -> JSONResponse:
        conn.drop()
        log.warning("Neo4j unavailable: %s", e)
        return JSONResponse({"detail": f"Neo4j is unavailable: {e}"}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(ConfigError)
    def bad_request(_: Request, e: ConfigError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=422)

    @app.exception_handler(KgrecError)
    def failed(_: Request, e: KgrecError) -> JSONResponse:
        log.error("request failed: %s", e)
        return JSONResponse({"detail": str(e)}, status_code=500)


def _bearer(token: str | None) -> Any:
    scheme = HTTPBearer(auto_error=False)

    async def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)]) -> None:
        if token is None:
            return
        given = credentials.credentials if credentials else ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    return Depends(check)


def _key(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text
