"""Serving stored media: a signed URL of the object store, or a local stream
with HTTP Range support.

The media view asks, at every request (every range of a stream included), who
may hear what (``visible_to`` and the media rule), then serves the ready
rendition of the testimony's current state, and never another. The admin's
views of originals and consent forms serve through the same responses.
"""

import logging
import re

from django.core.files.storage import Storage
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.translation import gettext as _

from ..models import ConsentRecord, Rendition, Testimony
from ..querysets import media_offer_for
from .jobs import renditions_follow
from .plan import rendition_plan
from .storage import renditions, signed_url

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
# A stream answers one range at a time: what players ask for when they seek.
RANGE = re.compile(r"\Abytes=(\d*)-(\d*)\Z")
# Every answer depends on who asks and on consent now: nothing keeps it.
NO_STORE = "private, no-store"
PREPARING_RETRY_SECONDS = 30


class Unavailable(Exception):
    """The stored file cannot be reached (object storage down, file missing)."""


def _plain(message: str, status: int, **headers) -> HttpResponse:
    response = HttpResponse(
        message + "\n", status=status, content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = NO_STORE
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def being_prepared() -> HttpResponse:
    return _plain(
        _(
            "This recording is being prepared for listening. "
            "Please try again in a few minutes."
        ),
        503,
        Retry_After=str(PREPARING_RETRY_SECONDS),
    )


def storage_down() -> HttpResponse:
    return _plain(
        _("The recordings cannot be reached just now. Please try again later."),
        503,
        Retry_After=str(PREPARING_RETRY_SECONDS),
    )


def servable_rendition(testimony: Testimony, user) -> Rendition | None:
    """The rendition ``user`` may hear of a testimony they may see: the ready one
    of its current state. Http404 if the media rule offers them nothing."""
    if media_offer_for(testimony, user) == ConsentRecord.MediaRelease.NONE:
        raise Http404
    plan = rendition_plan(testimony)
    if plan is None:
        raise Http404
    ready = testimony.renditions.filter(
        state=plan.state, status=Rendition.Status.READY
    ).first()
    if ready is None:
        # A state that no change announced (the way renditions are made, or the
        # disguise's setting, changed since): it is made from now on.
        renditions_follow(testimony_id=testimony.pk)
    return ready


def rendition_status(testimony: Testimony) -> str:
    """What the public may hear of a testimony's media now, said for curators."""
    plan = rendition_plan(testimony)
    if plan is None:
        return _("Nothing: the consent in force releases no media, or there is none.")
    current = testimony.renditions.filter(state=plan.state).first()
    if current is None or current.status == Rendition.Status.PENDING:
        return _(
            "Being prepared: the rendition of the current state is not ready yet, "
            "and nothing is served until it is."
        )
    if current.status == Rendition.Status.FAILED:
        return _(
            "Failed (attempts made: %(attempts)s), and nothing is served: %(error)s"
        ) % {"attempts": current.attempts, "error": current.error}
    return _("Ready: the rendition of the current state is served.")


def public_media_response(request, slug: str) -> HttpResponse:
    """The public rendition of a testimony, to whoever may hear it."""
    testimony = Testimony.objects.visible_to(request.user).filter(slug=slug).first()
    if testimony is None:
        raise Http404
    rendition = servable_rendition(testimony, request.user)
    if rendition is None:
        return being_prepared()
    extension = rendition.name.rsplit(".", 1)[-1]
    return stored_file_response(
        request,
        renditions(),
        rendition.name,
        content_type=rendition.content_type,
        filename=f"{testimony.slug}.{extension}",
    )


def stored_file_response(
    request, storage: Storage, name: str, *, content_type: str, filename: str
) -> HttpResponse:
    """A redirect to a signed URL of the object store, or the local file
    streamed with Range support; 503 when the storage cannot be reached."""
    try:
        return _stored_file_response(
            request, storage, name, content_type=content_type, filename=filename
        )
    except Unavailable:
        logger.exception("The stored file %s cannot be reached", name)
        return storage_down()


def _stored_file_response(request, storage, name, *, content_type, filename):
    try:
        url = signed_url(storage, name)
        if url is not None:
            # Signing needs no request to the store: ask it the file is there,
            # so that a store that is down answers 503, not a dead link.
            if not storage.exists(name):
                raise Unavailable(name)
            response = HttpResponseRedirect(url)
            response["Cache-Control"] = NO_STORE
            return response
        handle = storage.open(name, "rb")
    except Unavailable:
        raise
    except Exception as error:
        raise Unavailable(name) from error
    try:
        size = storage.size(name)
        wanted = byte_range(request.headers.get("Range"), size)
    except Exception:
        handle.close()
        raise
    if wanted is None:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted
        response = StreamingHttpResponse(
            _chunks(handle, start, end - start + 1),
            status=206 if "Range" in request.headers else 200,
            content_type=content_type,
        )
        response["Content-Length"] = str(end - start + 1)
        if "Range" in request.headers:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = NO_STORE
    return response


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte asked for by a Range header (the whole file
    without one), or None for a range this file cannot satisfy: not one range
    of bytes, or one that starts beyond its end."""
    if header is None:
        return (0, size - 1) if size else (0, -1)
    found = RANGE.match(header.strip())
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.groups()
    if first == "":
        # The last N bytes.
        length = int(last)
        if length == 0 or size == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return None
    return start, end


def _chunks(handle, start: int, length: int):
    try:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
