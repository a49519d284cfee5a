"""An in-process provider for the OpenFeature Python SDK: flags evaluated locally, as flagd.

```python
from openfeature import api
from shipyard.flags.openfeature import ShipyardProvider

api.set_provider_and_wait(ShipyardProvider(path="flags.json"))  # a flagd file, watched
api.set_provider_and_wait(ShipyardProvider(url="http://127.0.0.1:8700",  # or a server,
                                  token=flag_token, environment="staging"))  # polled with ETag
client = api.get_client()
client.get_boolean_value("new-checkout", False, EvaluationContext("user-42"))
```

Either way the whole flag set is held in memory and every evaluation is local (no request per
flag). A background thread notices changes (the file's modification, or the server's ETag) and
swaps the set atomically, then emits ``PROVIDER_CONFIGURATION_CHANGED`` naming the flags that
changed. The SDK emits ``PROVIDER_READY`` once ``initialize`` has loaded the flags; when the
first load fails, ``initialize`` raises (``PROVIDER_ERROR``) and the thread keeps trying, emitting
``PROVIDER_READY`` when it succeeds. A change that cannot be loaded keeps the last good flags and
emits ``PROVIDER_ERROR``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode, GeneralError, OpenFeatureError
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata

from shipyard.core import errors
from shipyard.flags import definitions, evaluator, files

_log = logging.getLogger(__name__)


class ShipyardProvider(AbstractProvider):
    """flagd-compatible local evaluation of a flagd file or a Shipyard environment's flags."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        environment: str | None = None,
        interval: float = 0.5,
        timeout: float = 5.0,
    ) -> None:
        super().__init__()
        if (path is None) == (url is None):
            raise ValueError("give either path= (a flagd file) or url= (a Shipyard server)")
        if url is not None and (not token or not environment):
            raise ValueError("url= needs token= (a flag token) and environment=")
        self.path = Path(path) if path is not None else None
        self.url = url.rstrip("/") if url is not None else None
        self.environment = environment
        self.interval = interval
        self._flags = definitions.FlagSet()
        self._version: object = None
        self._ready = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = (
            httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})
            if url is not None
            else None
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ShipyardProvider:
        """The provider a service deployed by Shipyard uses: its server, token and environment
        come from ``SHIPYARD_FLAGS_URL``, ``SHIPYARD_FLAGS_TOKEN`` and ``SHIPYARD_ENVIRONMENT``."""
        env = os.environ if environ is None else environ
        return cls(
            url=env["SHIPYARD_FLAGS_URL"],
            token=env["SHIPYARD_FLAGS_TOKEN"],
            environment=env["SHIPYARD_ENVIRONMENT"],
        )

    # -- lifecycle --

    def get_metadata(self) -> Metadata:
        return Metadata(name="Shipyard")

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        self._stop.clear()
        try:
            self._refresh(first=True)
        finally:
            self._thread = threading.Thread(target=self._watch, name="shipyard-flags", daemon=True)
            self._thread.start()
        self._ready = True

    def shutdown(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._http is not None:
            self._http.close()

    @property
    def flags(self) -> definitions.FlagSet:
        """The flags evaluated now."""
        return self._flags

    # -- loading --

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._refresh(first=False)
            except OpenFeatureError as error:
                self.emit_provider_error(
                    ProviderEventDetails(message=str(error), error_code=ErrorCode.GENERAL)
                )
                continue
            if not self._ready:
                self._ready = True
                self.emit_provider_ready(ProviderEventDetails(message="flags loaded"))

    def _refresh(self, *, first: bool) -> None:
        loaded = self._load_file() if self.path is not None else self._load_url()
        if loaded is None:
            return
        flags, version = loaded
        for problem in flags.problems:
            _log.warning("flag not loaded: %s", problem)
        before = self._flags
        self._flags, self._version = flags, version
        if not first and self._ready:
            changed = _changed(before, flags)
            if changed:
                self.emit_provider_configuration_changed(
                    ProviderEventDetails(flags_changed=changed, message="flags changed")
                )

    def _load_file(self) -> tuple[definitions.FlagSet, object] | None:
        assert self.path is not None
        try:
            stat = self.path.stat()
        except OSError as error:
            raise GeneralError(f"cannot read {self.path}: {error.strerror}") from None
        version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if version == self._version:
            return None
        try:
            flags = files.read_flag_file(self.path)
        except errors.ShipyardError as error:
            raise GeneralError(error.headline()) from None
        if not flags.flags and flags.problems:
            raise GeneralError(str(flags.problems[0]))
        return flags, version

    def _load_url(self) -> tuple[definitions.FlagSet, object] | None:
        assert self._http is not None and self.url is not None
        headers = {"If-None-Match": str(self._version)} if self._version else {}
        address = f"{self.url}/flags/v1/environments/{self.environment}/document"
        try:
            answer = self._http.get(address, headers=headers)
        except httpx.HTTPError as error:
            raise GeneralError(f"cannot reach {self.url}: {error}") from None
        if answer.status_code == 304:
            return None
        if answer.status_code != 200:
            raise GeneralError(f"{address} answered {answer.status_code}: {_details(answer)}")
        try:
            document = answer.json()
        except ValueError:
            raise GeneralError(f"{address} did not answer JSON") from None
        flags = definitions.load_document(document, f"{self.environment} flags", allow_array=True)
        return flags, answer.headers.get("etag")

    # -- evaluation --

    def _resolve(
        self,
        key: str,
        default: Any,
        context: EvaluationContext | None,
        wanted: evaluator.ValueType,
    ) -> FlagResolutionDetails[Any]:
        data: dict[str, Any] = {}
        if context is not None:
            data.update(context.attributes)
            if context.targeting_key is not None:
                data["targetingKey"] = context.targeting_key
        result = evaluator.check_type(evaluator.evaluate(self._flags, key, data), wanted)
        metadata = dict(result.metadata)
        if result.error_code is not None:
            return FlagResolutionDetails(
                default,
                error_code=ErrorCode(result.error_code),
                error_message=result.error_message,
                reason=Reason.ERROR,
                flag_metadata=metadata,
            )
        if result.variant is None:
            return FlagResolutionDetails(
                default, reason=Reason(result.reason), flag_metadata=metadata
            )
        return FlagResolutionDetails(
            result.value,
            reason=Reason(result.reason),
            variant=result.variant,
            flag_metadata=metadata,
        )

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(flag_key, default_value, evaluation_context, "boolean")

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        return self._resolve(flag_key, default_value, evaluation_context, "string")

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        return self._resolve(flag_key, default_value, evaluation_context, "integer")

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        return self._resolve(flag_key, default_value, evaluation_context, "float")

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        return self._resolve(flag_key, default_value, evaluation_context, "object")


def _details(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("errorDetails", answer.text))
    except (ValueError, AttributeError):
        return answer.text[:200]


def _changed(before: definitions.FlagSet, after: definitions.FlagSet) -> list[str]:
    keys = set(before.flags) | set(after.flags)
    changed = []
    for key in sorted(keys):
        old, new = before.flags.get(key), after.flags.get(key)
        if old is None or new is None or old.definition() != new.definition():
            changed.append(key)
    if before.metadata != after.metadata:
        changed = sorted(keys)
    return changed
