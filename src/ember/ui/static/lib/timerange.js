// The time range in the URL, as src/ember/ui/timerange.py reads it: ?range=15m|1h|1d|7d|30d|all
// or ?range=custom&from=<ISO>&to=<ISO> (UTC when no zone is written). A preset ends "now", so
// it is turned into times at each request: a live page keeps sliding its window.

const PRESET_SECONDS = { "15m": 900, "1h": 3600, "1d": 86400, "7d": 7 * 86400, "30d": 30 * 86400, all: null };

function utc(text) {
  if (!text) return null;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  const moment = new Date(zoned);
  return Number.isNaN(moment.getTime()) ? null : moment.toISOString();
}

/** {start, end}: ISO times (or null for an open end) of the range `params` names. */
export function rangeTimes(params, now = Date.now()) {
  const key = params.get("range") || "all";
  if (key === "custom") return { start: utc(params.get("from")), end: utc(params.get("to")) };
  const seconds = PRESET_SECONDS[key];
  if (!seconds) return { start: null, end: null };
  return { start: new Date(now - seconds * 1000).toISOString(), end: null };
}
