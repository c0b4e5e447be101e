// The testimony page: passages by their time (#t=1:02 or #t=1:02:03), and the
// player beside the transcript: a click on a time seeks there, the passage
// being played is marked and kept in view. Without this file the transcript,
// its links and the media element work on their own.
(function () {
  "use strict";

  var transcript = document.querySelector(".transcript");
  if (!transcript) {
    return;
  }
  var segments = Array.prototype.slice.call(transcript.querySelectorAll(".segment"));
  var media = document.querySelector(".player audio, .player video");
  var warning = document.getElementById("behind-warning");

  // "1:02:03", "1:02" or "62" (seconds) to seconds; NaN if it is none of them.
  function seconds(text) {
    var parts = String(text).split(":");
    if (parts.length > 3 || parts.some(function (p) { return !/^\d+(\.\d+)?$/.test(p); })) {
      return NaN;
    }
    return parts.reduce(function (total, part) { return total * 60 + parseFloat(part); }, 0);
  }

  function startOf(segment) {
    return parseFloat(segment.getAttribute("data-start"));
  }

  // The passage that holds a time: the last one starting at or before it.
  function segmentAt(time) {
    var found = null;
    segments.forEach(function (segment) {
      if (startOf(segment) <= time) {
        found = segment;
      }
    });
    return found || segments[0] || null;
  }

  function timeInHash() {
    var match = /^#t=([0-9:.]+)/.exec(window.location.hash);
    return match ? seconds(match[1]) : NaN;
  }

  var current = null;
  function mark(segment, follow) {
    if (segment === current) {
      return;
    }
    if (current) {
      current.classList.remove("playing");
      current.removeAttribute("aria-current");
    }
    current = segment;
    if (segment) {
      segment.classList.add("playing");
      segment.setAttribute("aria-current", "true");
      if (follow && !segmentInView(segment)) {
        segment.scrollIntoView({ block: "center", behavior: reducedMotion() ? "auto" : "smooth" });
      }
    }
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // In view: on screen and not under the player, which stays at the top.
  var player = document.querySelector(".player");
  function segmentInView(segment) {
    var box = segment.getBoundingClientRect();
    var top = player ? Math.max(0, player.getBoundingClientRect().bottom) : 0;
    return box.top >= top && box.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }

  function hidden() {
    return warning && !warning.open;
  }

  // Go to the passage a time names: mark it, show it, and seek the media there.
  function go(time, focus) {
    if (isNaN(time) || hidden()) {
      return;
    }
    var segment = segmentAt(time);
    if (!segment) {
      return;
    }
    if (media) {
      try {
        media.currentTime = startOf(segment);
      } catch (error) {
        // The media's data has not loaded yet: it seeks once it has.
        media.addEventListener("loadedmetadata", function once() {
          media.removeEventListener("loadedmetadata", once);
          media.currentTime = startOf(segment);
        });
      }
    }
    mark(segment, false);
    segment.scrollIntoView({ block: "center" });
    if (focus) {
      segment.querySelector(".time").focus({ preventScroll: true });
    }
  }

  transcript.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.time") : null;
    if (!link) {
      return;
    }
    var segment = link.closest(".segment");
    // The address keeps the passage's link, as without a script.
    if (window.history && window.history.replaceState) {
      event.preventDefault();
      window.history.replaceState(null, "", "#" + segment.id);
    }
    go(startOf(segment), true);
    if (media && media.paused) {
      var playing = media.play();
      if (playing && playing.catch) {
        playing.catch(function () {});
      }
    }
  });

  if (media) {
    media.addEventListener("timeupdate", function () {
      mark(segmentAt(media.currentTime), true);
    });
  }

  // Browsers open a closed <details> to show the passage an address names:
  // the warning is read first all the same. The passage is kept aside, out of
  // the address, until the warning's step is taken, then shown.
  var waiting = NaN;
  if (warning && !warning.open && !isNaN(timeInHash())) {
    waiting = timeInHash();
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    warning.scrollIntoView({ block: "center" });
  }
  if (warning) {
    warning.addEventListener("toggle", function () {
      if (!warning.open) {
        return;
      }
      if (!isNaN(waiting)) {
        var segment = segmentAt(waiting);
        waiting = NaN;
        if (segment && window.history && window.history.replaceState) {
          window.history.replaceState(null, "", "#" + segment.id);
        }
      }
      go(timeInHash(), true);
    });
  }
  window.addEventListener("hashchange", function () {
    go(timeInHash(), true);
  });
  go(timeInHash(), false);
})();
