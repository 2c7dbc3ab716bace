/* model_eliza's engine: reflection, keyword ranking, decomposition/reassembly, the memory of
 * earlier topics, determinism and rotation, script validation, and speed. */
#include "check.h"
#include "eliza_engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static el_script *load_default(void) {
    char err[256];
    el_script *s = el_script_load((const char *)eliza_default_script, eliza_default_script_len, err,
                                  sizeof err);
    if (!s)
        fprintf(stderr, "default script: %s\n", err);
    return s;
}

static int contains(const char *hay, const char *needle) {
    return hay && strstr(hay, needle) != NULL;
}

/* Any of the strings in a NULL-terminated list. */
static int one_of(const char *s, const char *const *list) {
    for (; *list; list++)
        if (s && strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static void test_reflection(const el_script *s) {
    char *r = el_reflect(s, "I am sad about my job");
    CHECK_STR(r, "you are sad about your job");
    free(r);
    r = el_reflect(s, "you are mean to me");
    CHECK_STR(r, "I am mean to you");
    free(r);
    r = el_reflect(s, "I'm tired of myself");
    CHECK_STR(r, "you are tired of yourself");
    free(r);
    r = el_reflect(s, "Bob and Alice"); /* unknown words keep their case */
    CHECK_STR(r, "Bob and Alice");
    free(r);
}

static void test_ranking(const el_script *s) {
    /* "computer" (rank 50) beats "remember" (5) and "my" (2) */
    static const char *const computer[] = {
        "Do computers worry you?",
        "Why do you bring up computers?",
        "What do you think machines have to do with what troubles you?",
        "Don't you think computers can help people?",
        "What is it about machines that concerns you?",
        "What do you think about machines?",
        NULL};
    el_conv *c = el_conv_new(s, 7);
    for (int i = 0; i < 6; i++) {
        char *r = el_respond(s, c, "I remember my computer", NULL);
        CHECK(one_of(r, computer));
        free(r);
    }
    el_conv_free(c);
}

static void test_decomposition(const el_script *s) {
    el_conv *c = el_conv_new(s, 11);
    /* "* i @desire *": every reassembly echoes the wish, reflected */
    for (int i = 0; i < 5; i++) {
        char *r = el_respond(s, c, "I need a long holiday at the sea", NULL);
        CHECK(contains(r, "a long holiday at the sea"));
        free(r);
    }
    /* "* i am * @sad *" picks the feeling out of the sentence */
    char *r = el_respond(s, c, "I am really unhappy", NULL);
    CHECK(contains(r, "unhappy"));
    free(r);
    /* clauses: the first one with a keyword is answered, the rest is ignored */
    r = el_respond(s, c, "well, you hate me, but whatever", NULL);
    CHECK(contains(r, "hate"));
    CHECK(!contains(r, "whatever"));
    free(r);
    /* goto: "why" continues with the "what" rules */
    static const char *const what[] = {"Why do you ask?",
                                       "Does that question interest you?",
                                       "What is it you really want to know?",
                                       "Are such questions much on your mind?",
                                       "What answer would please you most?",
                                       "What do you think?",
                                       "What comes to mind when you ask that?",
                                       "Have you asked such questions before?",
                                       "Have you asked anyone else?",
                                       NULL};
    r = el_respond(s, c, "why?", NULL);
    CHECK(one_of(r, what));
    free(r);
    /* captures keep the user's spelling */
    r = el_respond(s, c, "My name is Bob", NULL);
    CHECK(contains(r, "Bob"));
    free(r);
    el_conv_free(c);
}

static void test_memory(const el_script *s) {
    el_conv *c = el_conv_new(s, 3);
    char *r = el_respond(s, c, "my boss ignores me", NULL);
    free(r);
    CHECK_INT(c->nmemory, 1);
    /* nothing matches: the remembered topic comes back, reflected */
    r = el_respond(s, c, "xyzzy plugh", NULL);
    CHECK(contains(r, "your boss ignores you"));
    free(r);
    CHECK_INT(c->nmemory, 0);
    /* with the memory spent, the fallback answers */
    r = el_respond(s, c, "xyzzy plugh", NULL);
    CHECK(r && !contains(r, "boss"));
    free(r);
    /* bounded */
    for (int i = 0; i < 3 * EL_MEMORY_MAX; i++)
        free(el_respond(s, c, "my cat is grumpy", NULL));
    CHECK_INT(c->nmemory, EL_MEMORY_MAX);
    el_conv_free(c);
}

static void test_determinism(const el_script *s) {
    static const char *const inputs[] = {"hello",       "I feel lost", "my sister called",
                                         "you are odd", "perhaps",     "xyzzy",
                                         "hello",       NULL};
    el_conv *a = el_conv_new(s, 12345), *b = el_conv_new(s, 12345);
    for (int i = 0; inputs[i]; i++) {
        char *ra = el_respond(s, a, inputs[i], NULL), *rb = el_respond(s, b, inputs[i], NULL);
        CHECK_STR(ra, rb);
        free(ra);
        free(rb);
    }
    el_conv_free(a);
    el_conv_free(b);
    /* rotation: the same question twice gets two different answers */
    el_conv *c = el_conv_new(s, 99);
    char *r1 = el_respond(s, c, "because", NULL), *r2 = el_respond(s, c, "because", NULL);
    CHECK(r1 && r2 && strcmp(r1, r2) != 0);
    free(r1);
    free(r2);
    el_conv_free(c);
    /* different seeds start the rotation at different places for some rule */
    int differ = 0;
    for (uint64_t seed = 1; seed < 20 && !differ; seed++) {
        el_conv *x = el_conv_new(s, 1000), *y = el_conv_new(s, 1000 + seed);
        char *rx = el_respond(s, x, "perhaps", NULL), *ry = el_respond(s, y, "perhaps", NULL);
        differ = rx && ry && strcmp(rx, ry) != 0;
        free(rx);
        free(ry);
        el_conv_free(x);
        el_conv_free(y);
    }
    CHECK(differ);
}

static void test_persona(const el_script *s) {
    el_persona p = {"Ada", "I listen more than I talk."};
    el_conv *c = el_conv_new(s, 5);
    int named = 0;
    for (int i = 0; i < 3; i++) { /* the greeting rotation holds one reply with {name} {bio} */
        char *r = el_respond(s, c, "Hi there!", &p);
        if (contains(r, "Ada") && contains(r, "I listen more than I talk."))
            named = 1;
        CHECK(r && !contains(r, "{name}") && !contains(r, "  "));
        free(r);
    }
    CHECK(named);
    char *r = el_respond(s, c, "what is your name", &p);
    CHECK(contains(r, "Ada"));
    free(r);
    el_conv_free(c);
}

static void expect_invalid(const char *json, const char *fragment) {
    char err[256] = "";
    el_script *s = el_script_load(json, strlen(json), err, sizeof err);
    CHECK(s == NULL);
    CHECK(contains(err, fragment));
    if (!contains(err, fragment))
        fprintf(stderr, "  got: %s\n", err);
    el_script_free(s);
}

static void test_validation(void) {
    expect_invalid("{", "invalid JSON");
    expect_invalid("[]", "must be a JSON object");
    expect_invalid("{\"fallback\":[\"x\"]}", "keywords");
    expect_invalid("{\"keywords\":[{\"words\":[\"a\"],\"rules\":[{\"pattern\":\"* @nope *\","
                   "\"replies\":[\"x\"]}]}],\"fallback\":[\"x\"]}",
                   "unknown group");
    expect_invalid("{\"keywords\":[{\"words\":[\"a\"],\"rules\":[{\"pattern\":\"* a *\","
                   "\"replies\":[\"(3)\"]}]}],\"fallback\":[\"x\"]}",
                   "keywords[0].rules[0].replies[0]");
    expect_invalid("{\"keywords\":[{\"words\":[\"a\"],\"rules\":[{\"pattern\":\"*\","
                   "\"goto\":\"zzz\"}]}],\"fallback\":[\"x\"]}",
                   "unknown keyword");
    expect_invalid("{\"keywords\":[{\"words\":[\"a\"],\"rank\":\"high\",\"rules\":[{\"pattern\":"
                   "\"*\",\"replies\":[\"x\"]}]}],\"fallback\":[\"x\"]}",
                   "rank");
    expect_invalid("{\"keywords\":[{\"words\":[\"a\"],\"rules\":[{\"pattern\":\"*\","
                   "\"replies\":[\"x\"]}]}]}",
                   "fallback");
    /* a minimal valid script */
    const char *ok = "{\"name\":\"tiny\",\"keywords\":[{\"words\":[\"cat\"],\"rules\":[{"
                     "\"pattern\":\"* cat *\",\"replies\":[\"Cats (2)?\"]}]}],"
                     "\"fallback\":[\"Go on.\"]}";
    char err[256];
    el_script *s = el_script_load(ok, strlen(ok), err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        el_conv *c = el_conv_new(s, 1);
        char *r = el_respond(s, c, "the cat sleeps all day", NULL);
        CHECK_STR(r, "Cats sleeps all day?");
        free(r);
        r = el_respond(s, c, "dogs", NULL);
        CHECK_STR(r, "Go on.");
        free(r);
        el_conv_free(c);
        el_script_free(s);
    }
}

static void test_speed(const el_script *s) {
    el_conv *c = el_conv_new(s, 42);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    const int n = 20000;
    for (int i = 0; i < n; i++)
        free(el_respond(s, c, "I am worried that my mother does not understand me", NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n;
    fprintf(stderr, "el_respond: %.2f us per answer\n", us);
    CHECK(us < 200.0); /* microseconds, even under sanitizers */
    el_conv_free(c);
}

int main(void) {
    el_script *s = load_default();
    CHECK(s != NULL);
    if (!s)
        CHECK_DONE();
    test_reflection(s);
    test_ranking(s);
    test_decomposition(s);
    test_memory(s);
    test_determinism(s);
    test_persona(s);
    test_validation();
    test_speed(s);
    el_script_free(s);
    CHECK_DONE();
}
