/* Timeout configuration (COMPAT §8.1): server limits from config and the official environment
 * variables, per-agent overrides from the agent's settings, a request's timeoutConfig on top. */
#include "sessions_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Config key, then the environment variable (which wins, as everywhere in elizad); clamped. */
static double limit(const json_t *cfg, const char *key, const char *env, double dflt, double lo,
                    double hi) {
    double v = dflt;
    const json_t *c = json_object_get(cfg, key);
    if (json_is_integer(c))
        v = (double)json_integer_value(c);
    const char *e = getenv(env);
    if (e && *e) {
        char *end;
        double d = strtod(e, &end);
        if (end != e && isfinite(d))
            v = floor(d); /* parseInt */
    }
    return clampd(v, lo, hi);
}

int ss_limits_load(ss_state *st, const json_t *cfg) {
    ss_limits *l = &st->lim;
    l->default_timeout =
        limit(cfg, "default_timeout_minutes", "SESSION_DEFAULT_TIMEOUT_MINUTES", 30, 1, 10080);
    l->min_timeout = limit(cfg, "min_timeout_minutes", "SESSION_MIN_TIMEOUT_MINUTES", 5, 1, 60);
    l->max_timeout =
        limit(cfg, "max_timeout_minutes", "SESSION_MAX_TIMEOUT_MINUTES", 1440, 60, 10080);
    l->max_duration =
        limit(cfg, "max_duration_minutes", "SESSION_MAX_DURATION_MINUTES", 720, 60, 20160);
    l->warning =
        limit(cfg, "warning_threshold_minutes", "SESSION_WARNING_THRESHOLD_MINUTES", 5, 1, 60);
    l->cleanup_ms = (int64_t)(limit(cfg, "cleanup_interval_minutes",
                                    "SESSION_CLEANUP_INTERVAL_MINUTES", 5, 1, 60) *
                              60000.0);
    const json_t *m = json_object_get(cfg, "max_sessions");
    l->max_sessions = json_is_integer(m) ? (int)json_integer_value(m) : 100000;
    if (l->max_sessions < 1 || l->max_sessions > 10000000) {
        EZ_LOG(st->api, st->self, EZ_ERR, "max_sessions out of range (1..10000000)");
        return EZ_EINVAL;
    }
    return EZ_OK;
}

int ss_num(const json_t *v, double *out) {
    if (!v)
        return 0;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    if (!json_is_string(v))
        return -2;
    const char *s = json_string_value(v);
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s) { /* Number("") is 0 */
        *out = 0;
        return 1;
    }
    double d = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end != s && !*end && isfinite(d)) {
        *out = d;
        return 1;
    }
    return -1;
}

/* safeParseInt(String(setting), default, lo, hi) of the official server. */
static void agent_minutes(const json_t *agent, const char *key, double *dst, double lo, double hi) {
    const json_t *settings = json_object_get(agent, "settings");
    const json_t *v = json_object_get(settings, key);
    if (!v)
        v = json_object_get(json_object_get(settings, "secrets"), key);
    double d;
    if (json_is_number(v)) {
        d = json_number_value(v);
    } else {
        const char *s = json_string_value(v);
        char *end;
        if (!s || !*s)
            return;
        d = strtod(s, &end);
        if (end == s)
            return;
    }
    if (isfinite(d))
        *dst = clampd(trunc(d), lo, hi);
}

ss_timeout ss_agent_timeout(ss_state *st, const char *agent_id) {
    ss_timeout t = {st->lim.default_timeout, 1, st->lim.max_duration, st->lim.warning};
    json_t *agent = st->agents->get(st->agents->self, agent_id);
    if (!agent)
        return t;
    const ss_limits *l = &st->lim;
    agent_minutes(agent, "SESSION_TIMEOUT_MINUTES", &t.timeout_min, l->min_timeout, l->max_timeout);
    agent_minutes(agent, "SESSION_MAX_DURATION_MINUTES", &t.max_duration_min, l->min_timeout,
                  l->max_timeout * 2);
    agent_minutes(agent, "SESSION_WARNING_THRESHOLD_MINUTES", &t.warning_min, 1, l->max_timeout);
    const json_t *settings = json_object_get(agent, "settings");
    const json_t *arv = json_object_get(settings, "SESSION_AUTO_RENEW");
    if (!arv)
        arv = json_object_get(json_object_get(settings, "secrets"), "SESSION_AUTO_RENEW");
    const char *ar = json_string_value(arv);
    if (json_is_boolean(arv))
        t.auto_renew = json_is_true(arv);
    else if (ar && *ar)
        t.auto_renew = strcmp(ar, "true") == 0;
    json_decref(agent);
    return t;
}

int ss_timeout_merge(const ss_state *st, ss_timeout *t, const json_t *c, int strict) {
    if (!json_is_object(c))
        return strict && c ? -1 : 0; /* creation: anything else carries no values */
    double tm, md, wm;
    const json_t *ar = json_object_get(c, "autoRenew");
    int has_t = ss_num(json_object_get(c, "timeoutMinutes"), &tm);
    int has_m = ss_num(json_object_get(c, "maxDurationMinutes"), &md);
    int has_w = ss_num(json_object_get(c, "warningThresholdMinutes"), &wm);
    if (strict && (has_t == -2 || has_m == -2 || has_w == -2 || (ar && !json_is_boolean(ar))))
        return -1;
    /* a value Number() cannot read is NaN, which the official server turns into the server
     * default (strict or not: strings are an accepted type) */
    if (has_t > 0)
        t->timeout_min = clampd(tm, st->lim.min_timeout, st->lim.max_timeout);
    else if (has_t < 0)
        t->timeout_min = st->lim.default_timeout;
    if (ar)
        t->auto_renew = json_is_true(ar);
    if (has_m > 0)
        t->max_duration_min = fmax(t->timeout_min, fmin(st->lim.max_timeout * 2, md));
    else if (has_m < 0)
        t->max_duration_min = st->lim.max_duration;
    if (has_w > 0)
        t->warning_min = fmax(1, wm);
    else if (has_w < 0)
        t->warning_min = st->lim.warning;
    return 0;
}

json_t *ss_minutes_json(double m) {
    if (m == floor(m) && fabs(m) < 9e15)
        return json_integer((json_int_t)m);
    return json_real(m);
}

json_t *ss_timeout_json(const ss_timeout *t) {
    json_t *o = json_object();
    json_object_set_new(o, "timeoutMinutes", ss_minutes_json(t->timeout_min));
    json_object_set_new(o, "autoRenew", json_boolean(t->auto_renew));
    json_object_set_new(o, "maxDurationMinutes", ss_minutes_json(t->max_duration_min));
    json_object_set_new(o, "warningThresholdMinutes", ss_minutes_json(t->warning_min));
    return o;
}
