# Varnish in front of ldn-graph (docs/deployment.md): a shared HTTP cache for GET answers, in front of
# the balancer (deploy/haproxy.cfg).
#
#   varnishd -a :80 -f /path/to/deploy/varnish.vcl -s malloc,1g -t 60
#
# What a node says about an answer's freshness (Cache-Control max-age / s-maxage, no-store, private,
# ETag, Vary: Accept) decides: Varnish keeps an answer as long as its Cache-Control allows, one per
# Accept value, and revalidates an expired one with If-None-Match. An answer that says nothing about its
# freshness is kept for varnishd's default TTL (-t).

vcl 4.1;

backend balancer {
    .host = "127.0.0.1";
    .port = "8080";
    # Reads a query may take up to serve --timeout (10 s by default) before its first byte.
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 30s;
}

sub vcl_recv {
    if (req.method != "GET" && req.method != "HEAD") {
        # A POSTed query goes through uncached: its body is not part of the cache key.
        return (pass);
    }
    if (req.url ~ "^/(health|metrics)(\?|$)") {
        # Per node, and about now: never from the cache.
        return (pass);
    }
    # The server sets no cookie and reads none: a cookie the browser sends for another site on the
    # same host must not make every answer uncacheable.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    if (beresp.status >= 500) {
        # A store outage or a query past the time limit is not an answer to keep.
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    if (beresp.http.Cache-Control !~ "stale-while-revalidate") {
        # No stale answer unless the node allows one: past its max-age an answer is fetched anew, so a
        # reload shows within the max-age.
        set beresp.grace = 0s;
    }
    # An expired answer stays a while, to be revalidated by its ETag rather than fetched whole. Varnish's
    # own rules follow: no-store, private or a cookie set keep an answer out of the cache.
    set beresp.keep = 1h;
}
