/* The page answered while the web UI is not installed. It names no server path (the warning in
 * the log does): remote visitors learn nothing about the file system. */
#include "webui_int.h"

#include <string.h>

static const char page[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><title>elizad - web UI not installed</title>\n"
    "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;"
    "line-height:1.5;padding:0 1em}code,pre{background:#eee;padding:.1em .3em}</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>The elizaOS web UI is not installed</h1>\n"
    "<p>elizad is running and its API answers under <code>/api</code>, but the directory the "
    "<code>webui</code> plugin serves holds no <code>index.html</code> "
    "(the server log names the directories it looked in).</p>\n"
    "<p>To install the official UI (<code>@elizaos/client</code> from npm), run from the elizad "
    "source tree:</p>\n"
    "<pre>packaging/fetch-webui.sh            # into build/webui, beside build/elizad\n"
    "packaging/fetch-webui.sh /some/dir   # then set webui: { dir = \"/some/dir\"; };</pre>\n"
    "<p>Reload this page afterwards; no restart is needed.</p>\n"
    "</body>\n"
    "</html>\n";

const char *webui_page_not_installed(size_t *len) {
    *len = sizeof page - 1;
    return page;
}
