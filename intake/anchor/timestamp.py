"""RFC 3161 timestamps of a day's root from a timestamping authority (TSA), through rfc3161-client."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import threading
import urllib.error
import urllib.request

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from intake.errors import IntakeError

TIMEOUT = 30
DEADLINE = 120  # the whole request: a TSA dripping its answer beats TIMEOUT, which bounds each read only
MAX_RESPONSE = 64 * 1024


class TimestampError(IntakeError):
    """A timestamp that could not be had, or that does not stamp what it should."""


def request(url: str, data: bytes) -> bytes:
    """Ask the TSA at `url` to stamp `data`; return its response (DER) once it is checked to stamp `data`."""
    query = TimestampRequestBuilder(data=data, hash_algorithm=HashAlgorithm.SHA256, nonce=True, cert_req=True).build()
    post = urllib.request.Request(url, data=query.as_bytes(), method="POST",  # noqa: S310 (http(s) only: settings.py)
                                  headers={"Content-Type": "application/timestamp-query"})
    answers: list[bytes | TimestampError] = []
    asker = threading.Thread(target=lambda: answers.append(_fetch(url, post)), daemon=True)
    asker.start()
    asker.join(DEADLINE)
    if not answers:
        raise TimestampError(f"the timestamping authority at {url} did not finish answering within {DEADLINE} s: "
                             "check INTAKE_TSA_URL and the network, then run `intake anchor` again")
    raw = answers[0]
    if isinstance(raw, TimestampError):
        raise raw
    if len(raw) > MAX_RESPONSE:
        raise TimestampError(f"the timestamping authority at {url} sent over {MAX_RESPONSE} bytes: not a timestamp")
    stamped_time(raw, data)
    if decode_timestamp_response(raw).tst_info.nonce != query.nonce:
        raise TimestampError(f"the timestamping authority at {url} answered another request (nonce differs)")
    return raw


def _fetch(url: str, post: urllib.request.Request) -> bytes | TimestampError:
    """The TSA's answer, up to one byte over MAX_RESPONSE, or the error saying it did not answer."""
    try:
        with urllib.request.urlopen(post, timeout=TIMEOUT) as answer:  # noqa: S310 (http(s) only: settings.py)
            return answer.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        return TimestampError(f"the timestamping authority at {url} did not answer ({exc}): check INTAKE_TSA_URL "
                              "and the network, then run `intake anchor` again")


def stamped_time(raw: bytes, data: bytes) -> dt.datetime:
    """The time a timestamp response gives `data`; TimestampError unless it is granted and stamps exactly `data`."""
    try:
        response = decode_timestamp_response(raw)
    except ValueError as exc:
        raise TimestampError(f"the timestamp is not an RFC 3161 response ({exc})") from exc
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the timestamping authority refused: {response.status_string or response.status}")
    imprint = response.tst_info.message_imprint
    if imprint.message != hashlib.sha256(data).digest():
        raise TimestampError("the timestamp stamps other data than this day's root")
    return response.tst_info.gen_time


def check_signed(raw: bytes, data: bytes, tsa_ca: bytes) -> None:
    """TimestampError unless the timestamp of `data` is signed by a TSA certified under `tsa_ca` (PEM)."""
    try:
        root = x509.load_pem_x509_certificate(tsa_ca)
        VerifierBuilder(roots=[root]).build().verify_message(decode_timestamp_response(raw), data)
    except (ValueError, VerificationError) as exc:
        raise TimestampError(f"the timestamp is not signed by a TSA under the given CA certificate ({exc}): its time "
                             "is not evidence") from exc
