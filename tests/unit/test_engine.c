/*
 * Unit tests for policy/engine: a decision table (L4 and L7) over the default policy and
 * inline policies that port network.md §9.1-9.6, then the destination-address rules
 * (§4.7, §9.11) and the decision metadata the proxy relies on (inspect, endpoint).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "policy/canon.h"
#include "policy/engine.h"
#include "policy/load.h"
#include "t.h"
#include "util/util.h"

/* --- policies --- */

/* network.md §9.1 fixture. */
static const char p_fixture[] =
        "version: 1\n"
        "network_policies:\n"
        "  claude_code:\n"
        "    endpoints:\n"
        "      - { host: api.anthropic.com, port: 443 }\n"
        "      - { host: statsig.anthropic.com, port: 443 }\n"
        "    binaries: [ { path: /usr/local/bin/claude }, { path: /usr/bin/node } ]\n"
        "  github_ssh_over_https:\n"
        "    name: github-ssh-over-https\n"
        "    endpoints:\n"
        "      - host: github.com\n"
        "        port: 443\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules:\n"
        "          - allow: { method: GET, path: \"/**/info/refs*\" }\n"
        "          - allow: { method: POST, path: \"/**/git-upload-pack\" }\n"
        "    binaries: [ { path: /usr/bin/git } ]\n"
        "  copilot:\n"
        "    endpoints:\n"
        "      - { host: api.github.com, port: 443 }\n"
        "    binaries:\n"
        "      - { path: \"/usr/lib/node_modules/@github/copilot/node_modules/@github/**/copilot\" "
        "}\n"
        "      - { path: /usr/local/bin/copilot }\n"
        "      - { path: \"/home/*/.local/bin/copilot\" }\n"
        "  gitlab:\n"
        "    endpoints: [ { host: gitlab.com, port: 443 } ]\n"
        "    binaries: [ { path: /usr/bin/glab } ]\n";

/* §9.2 binary globs and §9.3 host/port matching. */
static const char p_match[] =
        "version: 1\n"
        "network_policies:\n"
        "  usr_bin:\n"
        "    endpoints: [ { host: a.example.com, port: 443 } ]\n"
        "    binaries: [ { path: \"/usr/bin/*\" } ]\n"
        "  local_bin:\n"
        "    endpoints: [ { host: b.example.com, port: 443 } ]\n"
        "    binaries: [ { path: \"/usr/local/bin/*\" } ]\n"
        "  my_tool:\n"
        "    endpoints: [ { host: c.example.com, port: 443 } ]\n"
        "    binaries: [ { path: /usr/local/bin/my-tool } ]\n"
        "  connect_test:\n"
        "    endpoints: [ { host: 203.0.113.10, port: 443, tls: skip } ]\n"
        "    binaries: [ { path: \"/tmp/openshell-connect-test/*\" } ]\n"
        "  python_policy:\n"
        "    endpoints: [ { host: pypi.org, port: 443 } ]\n"
        "    binaries: [ { path: /usr/bin/python3 }, { path: /usr/bin/python3.11 } ]\n"
        "  wild:\n"
        "    endpoints: [ { host: \"*.example.com\", ports: [443, 8443] } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  aiplatform:\n"
        "    endpoints: [ { host: \"*-aiplatform.googleapis.com\", port: 443 } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  s3:\n"
        "    endpoints: [ { host: \"*.s3.*.amazonaws.com\", port: 443 } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  multi:\n"
        "    endpoints: [ { host: api.example.org, ports: [443, 8443] } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  hostless:\n"
        "    endpoints: [ { ports: [8081, 9443], allowed_ips: [10.0.0.0/8, 192.168.1.1] } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  corp:\n"
        "    endpoints: [ { host: my-service.corp.net, port: 8080, allowed_ips: [10.0.5.0/24] } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  corp_wild:\n"
        "    endpoints: [ { host: \"*.corp.net\", port: 443 } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  k8s:\n"
        "    endpoints: [ { host: k8s.corp.net, port: 6443 } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n";

/* §9.4-9.6 L7 REST, plus audit, encoded slash and endpoint path selection. */
static const char p_l7[] =
        "version: 1\n"
        "network_policies:\n"
        "  a_repos:\n"
        "    endpoints:\n"
        "      - host: api.example.com\n"
        "        port: 8080\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules:\n"
        "          - allow: { method: GET, path: \"/repos/**\" }\n"
        "          - allow: { method: POST, path: \"/repos/*/issues\" }\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  b_readonly:\n"
        "    endpoints: [ { host: api.readonly.com, port: 8080, protocol: rest, enforcement: "
        "enforce, access: read-only } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  c_full:\n"
        "    endpoints: [ { host: api.full.com, port: 8080, protocol: rest, access: full } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  d_query:\n"
        "    endpoints:\n"
        "      - host: api.query.com\n"
        "        port: 8080\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules:\n"
        "          - allow: { method: GET, path: /download, query: { tag: \"foo-*\" } }\n"
        "          - allow: { method: GET, path: /search, query: { tag: { any: [\"foo-*\", "
        "\"bar-*\"] } } }\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  e_deny:\n"
        "    endpoints:\n"
        "      - host: api.github.com\n"
        "        port: 443\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        access: read-write\n"
        "        deny_rules:\n"
        "          - { method: POST, path: \"/repos/*/pulls/*/reviews\" }\n"
        "          - { method: PUT, path: \"/repos/*/branches/*/protection\" }\n"
        "          - { method: \"*\", path: \"/repos/*/rulesets\" }\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  f_admin:\n"
        "    endpoints:\n"
        "      - host: api.restricted.com\n"
        "        port: 443\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        access: full\n"
        "        deny_rules:\n"
        "          - { method: POST, path: \"/admin/**\", query: { force: \"true\" } }\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  l4only:\n"
        "    endpoints: [ { host: l4only.example.com, port: 443 } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  wild_api:\n"
        "    endpoints:\n"
        "      - host: \"*.example.net\"\n"
        "        port: 8080\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules: [ { allow: { method: GET, path: \"/api/**\" } } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  ports:\n"
        "    endpoints:\n"
        "      - host: api.ports.com\n"
        "        ports: [8080, 9090]\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules: [ { allow: { method: GET, path: \"**\" } } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  h_post:\n"
        "    endpoints:\n"
        "      - host: h.test\n"
        "        port: 80\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules: [ { allow: { method: POST, path: / } } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  h_full:\n"
        "    endpoints:\n"
        "      - host: h2.test\n"
        "        port: 80\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        access: full\n"
        "        deny_rules: [ { method: GET, path: /protected } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  git:\n"
        "    endpoints:\n"
        "      - host: git.example.com\n"
        "        port: 443\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules:\n"
        "          - allow: { method: GET, path: \"**\" }\n"
        "          - allow: { method: HEAD, path: \"**\" }\n"
        "          - allow: { method: OPTIONS, path: \"**\" }\n"
        "          - allow: { method: POST, path: \"/**/git-upload-pack\" }\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  sel:\n"
        "    endpoints:\n"
        "      - host: api.github.test\n"
        "        port: 443\n"
        "        path: \"/repos/**\"\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules: [ { allow: { method: \"*\", path: \"/**\" } } ]\n"
        "      - host: api.github.test\n"
        "        port: 443\n"
        "        path: /graphql\n"
        "        protocol: graphql\n"
        "        enforcement: enforce\n"
        "        access: read-only\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  audit_rules:\n"
        "    endpoints:\n"
        "      - host: audit.example.com\n"
        "        port: 443\n"
        "        protocol: rest\n"
        "        rules: [ { allow: { method: GET, path: /ok } } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  encoded:\n"
        "    endpoints:\n"
        "      - host: gitlab.example.com\n"
        "        port: 443\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        allow_encoded_slash: true\n"
        "        rules: [ { allow: { method: GET, path: \"/api/v4/projects/*/issues\" } } ]\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n"
        "  specific:\n"
        "    endpoints:\n"
        "      - { host: spec.example.com, port: 443, path: \"**\", protocol: rest, enforcement: "
        "enforce, access: full }\n"
        "      - { host: spec.example.com, port: 443, path: \"/admin/**\", protocol: rest, "
        "enforcement: enforce, access: read-only }\n"
        "    binaries: [ { path: /usr/bin/curl } ]\n";

enum want { ALLOW = 0, DENY, AUDIT };

struct dcase {
	const char *policy; /* NULL: the default policy */
	const char *exe;
	const char *anc[3];
	const char *host;
	uint16_t port;
	const char *method; /* NULL: L4 only */
	const char *target;
	enum want want;
	const char *block;  /* expected deciding block key; NULL: not checked */
	const char *reason; /* expected substring; NULL: not checked */
};

#define CLAUDE "/usr/local/bin/claude"
#define NODE   "/usr/bin/node"
#define CURL   "/usr/bin/curl"
#define GIT    "/usr/bin/git"
#define GH     "/usr/bin/gh"
#define PY     "/usr/bin/python3"
#define FX     p_fixture
#define MT     p_match
#define L7     p_l7

static const struct dcase table[] = {
        /* --- default policy, L4 --- */
        {NULL, CLAUDE, {0}, "api.anthropic.com", 443, NULL, NULL, ALLOW, "claude_code", NULL},
        {NULL, NODE, {0}, "api.anthropic.com", 443, NULL, NULL, ALLOW, "claude_code", NULL},
        {NULL,
         CURL,
         {0},
         "api.anthropic.com",
         443,
         NULL,
         NULL,
         DENY,
         "claude_code",
         "api.anthropic.com:443 is allowed by block claude_code, but /usr/bin/curl is not one of "
         "its binaries (/usr/local/bin/claude, /usr/bin/node)"},
        {NULL,
         CURL,
         {0},
         "api.anthropic.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "add /usr/bin/curl to the binaries"},
        {NULL,
         CLAUDE,
         {0},
         "api.anthropic.com",
         80,
         NULL,
         NULL,
         DENY,
         NULL,
         "allows api.anthropic.com only on port 443"},
        {NULL, CLAUDE, {0}, "API.Anthropic.COM", 443, NULL, NULL, ALLOW, "claude_code", NULL},
        {NULL, CLAUDE, {0}, "api.anthropic.com.", 443, NULL, NULL, ALLOW, "claude_code", NULL},
        {NULL, CLAUDE, {0}, "statsig.anthropic.com", 443, NULL, NULL, ALLOW, "claude_code", NULL},
        {NULL,
         CURL,
         {0},
         "evil.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "endpoint evil.com:443 is not allowed by any policy block"},
        {NULL,
         PY,
         {0},
         "api.github.com",
         443,
         NULL,
         NULL,
         DENY,
         "github_rest_api",
         "api.github.com:443 is allowed by block github_rest_api, but /usr/bin/python3 is not one "
         "of its binaries (/usr/local/bin/claude, /usr/bin/gh)"},
        {NULL,
         PY,
         {CLAUDE},
         "api.github.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "github_rest_api",
         "an ancestor of /usr/bin/python3"},
        {NULL, NODE, {CLAUDE}, "api.github.com", 443, NULL, NULL, ALLOW, "github_rest_api", NULL},
        {NULL,
         PY,
         {"/bin/bash", "/bin/sh"},
         "api.github.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "nor are its ancestors (/bin/bash -> /bin/sh)"},
        {NULL,
         "/sandbox/.uv/python/cpython-3.12.3-linux-x86_64-gnu/bin/python3.12",
         {0},
         "pypi.org",
         443,
         NULL,
         NULL,
         ALLOW,
         "pypi",
         NULL},
        {NULL,
         "/sandbox/.uv/python/cpython-3.12.3-linux-x86_64-gnu/bin/python3.12",
         {0},
         "files.pythonhosted.org",
         443,
         NULL,
         NULL,
         ALLOW,
         "pypi",
         NULL},
        {NULL, "/sandbox/.uv/python", {0}, "pypi.org", 443, NULL, NULL, DENY, "pypi", NULL},
        {NULL, "/usr/local/bin/uv", {0}, "api.github.com", 443, NULL, NULL, ALLOW, "pypi", NULL},
        {NULL,
         CURL,
         {0},
         "integrate.api.nvidia.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "nvidia_inference",
         NULL},
        {NULL, NODE, {0}, "integrate.api.nvidia.com", 443, NULL, NULL, ALLOW, "opencode", NULL},
        {NULL,
         "/sandbox/.vscode-server/bin/abc123/node",
         {0},
         "update.code.visualstudio.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "vscode",
         NULL},
        {NULL,
         "/sandbox/.cursor-server/bin/x/node",
         {0},
         "api2.cursor.sh",
         443,
         NULL,
         NULL,
         ALLOW,
         "cursor",
         NULL},
        {NULL, GIT, {0}, "github.com", 443, NULL, NULL, ALLOW, "github_ssh_over_https", NULL},
        {NULL,
         CURL,
         {0},
         "127.1",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "unusual spelling of an IPv4 address"},
        {NULL, CURL, {0}, "*.anthropic.com", 443, NULL, NULL, DENY, NULL, "invalid host name"},
        {NULL, CURL, {0}, "evil.com/x", 443, NULL, NULL, DENY, NULL, "invalid host name"},
        {NULL,
         NULL,
         {0},
         "api.anthropic.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "(unknown binary) is not one of its binaries"},
        {NULL, CURL, {0}, "[::1]", 443, NULL, NULL, DENY, NULL, "endpoint ::1:443 is not allowed"},
        {NULL, CURL, {0}, "", 443, NULL, NULL, DENY, NULL, "invalid host name"},
        /* --- default policy, L7 --- */
        {NULL,
         CLAUDE,
         {0},
         "api.anthropic.com",
         443,
         "POST",
         "/v1/messages",
         ALLOW,
         "claude_code",
         NULL},
        {NULL,
         CLAUDE,
         {0},
         "api.anthropic.com",
         443,
         "DELETE",
         "/v1/files/x",
         ALLOW,
         "claude_code",
         "access: full"},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "GET",
         "/org/repo.git/info/refs?service=git-upload-pack",
         ALLOW,
         "github_ssh_over_https",
         NULL},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/org/repo.git/git-upload-pack",
         ALLOW,
         "github_ssh_over_https",
         NULL},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/org/repo.git/git-receive-pack",
         DENY,
         "github_ssh_over_https",
         "POST /org/repo.git/git-receive-pack not permitted by policy github_ssh_over_https"},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "GET",
         "/org/repo.git/info/refs?service=git-receive-pack",
         ALLOW,
         NULL,
         NULL},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/a/../git-receive-pack",
         DENY,
         NULL,
         "POST /git-receive-pack not permitted"},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/org/repo.git/%2e%2e/repo.git/git-receive-pack",
         DENY,
         NULL,
         "POST /org/repo.git/git-receive-pack not permitted"},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "//org//repo.git//git-receive-pack",
         DENY,
         NULL,
         "POST /org/repo.git/git-receive-pack not permitted"},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/org/repo.git/git-receive-pack;x=1",
         DENY,
         NULL,
         "POST /org/repo.git/git-receive-pack not permitted"},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/org/repo.git%2Fgit-upload-pack",
         DENY,
         NULL,
         "%2F"},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/org/repo.git/git-receive-pack/%2e%2e/git-upload-pack",
         ALLOW,
         NULL,
         NULL},
        {NULL,
         GIT,
         {0},
         "github.com",
         443,
         "GET",
         "/../etc/passwd",
         DENY,
         NULL,
         "climbs above the root"},
        {NULL, GIT, {0}, "github.com", 443, "GET", "/a#frag", DENY, NULL, "fragment"},
        {NULL, GH, {0}, "api.github.com", 443, "GET", "/user", ALLOW, "github_rest_api", NULL},
        {NULL, GH, {0}, "api.github.com", 443, "HEAD", "/user", ALLOW, "github_rest_api", NULL},
        {NULL,
         GH,
         {0},
         "api.github.com",
         443,
         "POST",
         "/user/repos",
         DENY,
         "github_rest_api",
         "POST /user/repos not permitted by policy github_rest_api (access: read-only)"},
        {NULL,
         GH,
         {0},
         "api.github.com",
         443,
         "delete",
         "/repos/o/r",
         DENY,
         "github_rest_api",
         "(access: read-only)"},
        {NULL,
         NODE,
         {CLAUDE},
         "api.github.com",
         443,
         "GET",
         "/user",
         ALLOW,
         "github_rest_api",
         NULL},
        {NULL,
         PY,
         {0},
         "api.github.com",
         443,
         "GET",
         "/user",
         DENY,
         NULL,
         "is not one of its binaries"},
        {NULL,
         CLAUDE,
         {0},
         "statsig.anthropic.com",
         443,
         "GET",
         "/",
         DENY,
         NULL,
         "cannot be checked"},
        /* --- §9.1 fixture --- */
        {FX, NODE, {0}, "api.anthropic.com", 443, NULL, NULL, ALLOW, "claude_code", NULL}, /* 1 */
        {FX,
         PY,
         {0},
         "api.anthropic.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "not one of its binaries"},                                                         /* 2 */
        {FX, NODE, {0}, "evil.example.com", 443, NULL, NULL, DENY, NULL, "endpoint"},        /* 3 */
        {FX, "/tmp/malicious", {0}, "api.anthropic.com", 443, NULL, NULL, DENY, NULL, NULL}, /* 4 */
        {FX, GIT, {0}, "github.com", 443, NULL, NULL, ALLOW, "github_ssh_over_https", NULL}, /* 5 */
        {FX, NODE, {0}, "API.ANTHROPIC.COM", 443, NULL, NULL, ALLOW, "claude_code", NULL},   /* 6 */
        {FX, NODE, {0}, "api.anthropic.com", 80, NULL, NULL, DENY, NULL, NULL},              /* 7 */
        {FX, PY, {GIT}, "github.com", 443, NULL, NULL, ALLOW, "github_ssh_over_https", NULL}, /* 8
                                                                                               */
        {FX,
         PY,
         {"/usr/bin/bash"},
         "github.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "not one of its binaries"}, /* 9 */
        {FX,
         PY,
         {"/usr/bin/sh", GIT},
         "github.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "github_ssh_over_https",
         NULL}, /* 10 */
        {FX, CLAUDE, {0}, "api.anthropic.com", 443, NULL, NULL, ALLOW, "claude_code", NULL}, /* 11
                                                                                              */
        {FX,
         "/usr/bin/python3.11",
         {0},
         "api.anthropic.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "a listed symlink matches the file it names"}, /* 12 */
        {FX,
         CLAUDE,
         {0},
         "not-configured.example.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         "endpoint not-configured.example.com:443 is not allowed by any policy"}, /* 13 */
        {FX,
         "/home/alice/.local/bin/copilot",
         {0},
         "api.github.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "copilot",
         NULL},
        {FX,
         "/usr/lib/node_modules/@github/copilot/node_modules/@github/copilot-linux-x64/copilot",
         {0},
         "api.github.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "copilot",
         NULL},
        {FX,
         GIT,
         {0},
         "github.com",
         443,
         "GET",
         "/NVIDIA/OpenShell.git/info/refs?service=git-upload-pack",
         ALLOW,
         NULL,
         NULL},
        {FX,
         GIT,
         {0},
         "github.com",
         443,
         "POST",
         "/NVIDIA/OpenShell.git/git-receive-pack",
         DENY,
         NULL,
         "(rules: GET /**/info/refs*, POST /**/git-upload-pack)"},
        /* --- §9.2 binary globs --- */
        {MT, NODE, {0}, "a.example.com", 443, NULL, NULL, ALLOW, "usr_bin", NULL},        /* 14 */
        {MT, NODE, {CLAUDE}, "b.example.com", 443, NULL, NULL, ALLOW, "local_bin", NULL}, /* 15 */
        {MT, "/usr/bin/subdir/node", {0}, "a.example.com", 443, NULL, NULL, DENY, NULL, NULL}, /* 16
                                                                                                */
        {MT, NODE, {"/usr/bin/bash"}, "c.example.com", 443, NULL, NULL, DENY, NULL, NULL}, /* 17 */
        {MT, NODE, {0}, "b.example.com", 443, NULL, NULL, DENY, NULL, NULL},               /* 19 */
        {MT,
         "/tmp/openshell-connect-test/connect-bash",
         {0},
         "203.0.113.10",
         443,
         NULL,
         NULL,
         ALLOW,
         "connect_test",
         NULL}, /* 20 */
        {MT,
         "/usr/bin/python3.11",
         {0},
         "pypi.org",
         443,
         NULL,
         NULL,
         ALLOW,
         "python_policy",
         NULL}, /* 21 */
        {MT, PY, {0}, "pypi.org", 443, NULL, NULL, ALLOW, "python_policy", NULL},
        {MT, "/usr/bin/python3.12", {0}, "pypi.org", 443, NULL, NULL, DENY, NULL, NULL},
        /* --- §9.3 hosts and ports --- */
        {MT, CURL, {0}, "api.example.com", 443, NULL, NULL, ALLOW, "wild", NULL},   /* 22 */
        {MT, CURL, {0}, "deep.sub.example.com", 443, NULL, NULL, DENY, NULL, NULL}, /* 23 */
        {MT, CURL, {0}, "example.com", 443, NULL, NULL, DENY, NULL, NULL},          /* 24 */
        {MT, CURL, {0}, "api.example.com", 80, NULL, NULL, DENY, NULL, NULL},       /* 26 */
        {MT, CURL, {0}, "api.example.com", 8443, NULL, NULL, ALLOW, "wild", NULL},  /* 27 */
        {MT,
         CURL,
         {0},
         "us-central1-aiplatform.googleapis.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "aiplatform",
         NULL}, /* 28 */
        {MT,
         CURL,
         {0},
         "us-central1.aiplatform.googleapis.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         NULL}, /* 29 */
        {MT,
         CURL,
         {0},
         "my-bucket.s3.us-east-1.amazonaws.com",
         443,
         NULL,
         NULL,
         ALLOW,
         "s3",
         NULL},                                                                           /* 30 */
        {MT, CURL, {0}, "s3.us-east-1.amazonaws.com", 443, NULL, NULL, DENY, NULL, NULL}, /* 31 */
        {MT,
         CURL,
         {0},
         "my-bucket.s3.dualstack.us-east-1.amazonaws.com",
         443,
         NULL,
         NULL,
         DENY,
         NULL,
         NULL},                                                                    /* 32 */
        {MT, CURL, {0}, "evil%2eexample.com", 443, NULL, NULL, DENY, NULL, NULL},  /* 34 */
        {MT, CURL, {0}, "api.example.org", 443, NULL, NULL, ALLOW, "multi", NULL}, /* 35 */
        {MT, CURL, {0}, "api.example.org", 8443, NULL, NULL, ALLOW, "multi", NULL},
        {MT, CURL, {0}, "api.example.org", 80, NULL, NULL, DENY, NULL, NULL},
        {MT, CURL, {0}, "anything.internal", 8081, NULL, NULL, ALLOW, "hostless", NULL},    /* 36 */
        {MT, CURL, {0}, "anything.example.com", 9443, NULL, NULL, ALLOW, "hostless", NULL}, /* 37 */
        {MT, CURL, {0}, "anything.internal", 12345, NULL, NULL, DENY, NULL, NULL},
        {MT, CURL, {0}, "api.corp.net", 443, NULL, NULL, ALLOW, "corp_wild", NULL}, /* 40 */
        /* --- §9.4 L7 REST --- */
        {L7,
         CURL,
         {0},
         "api.example.com",
         8080,
         "GET",
         "/repos/myorg/foo",
         ALLOW,
         "a_repos",
         NULL}, /* 42 */
        {L7,
         CURL,
         {0},
         "api.example.com",
         8080,
         "POST",
         "/repos/myorg/issues",
         ALLOW,
         "a_repos",
         NULL}, /* 43 */
        {L7,
         CURL,
         {0},
         "api.example.com",
         8080,
         "DELETE",
         "/repos/myorg/foo",
         DENY,
         "a_repos",
         "DELETE /repos/myorg/foo not permitted by policy"}, /* 44 */
        {L7, CURL, {0}, "api.example.com", 8080, "GET", "/admin/settings", DENY, NULL, NULL}, /* 45
                                                                                               */
        {L7,
         CURL,
         {0},
         "api.example.com",
         8080,
         "get",
         "/repos/myorg/foo",
         ALLOW,
         NULL,
         NULL}, /* 46 */
        {L7,
         CURL,
         {0},
         "api.example.com",
         8080,
         "HEAD",
         "/repos/myorg/foo",
         ALLOW,
         NULL,
         NULL}, /* 47 */
        {L7,
         CURL,
         {0},
         "api.example.com",
         8080,
         "OPTIONS",
         "/repos/myorg/foo",
         DENY,
         NULL,
         NULL}, /* 48 */
        {L7,
         PY,
         {0},
         "api.example.com",
         8080,
         "GET",
         "/repos/myorg/foo",
         DENY,
         NULL,
         "not one of its binaries"}, /* 50 */
        {L7,
         CURL,
         {0},
         "api.example.com",
         8080,
         "POST",
         "/repos/a/b/issues",
         DENY,
         NULL,
         NULL}, /* `*` stays in a segment */
        {L7,
         CURL,
         {0},
         "api.readonly.com",
         8080,
         "OPTIONS",
         "/anything",
         ALLOW,
         "b_readonly",
         NULL}, /* 51 */
        {L7,
         CURL,
         {0},
         "api.readonly.com",
         8080,
         "POST",
         "/anything",
         DENY,
         "b_readonly",
         "(access: read-only)"}, /* 52 */
        {L7, CURL, {0}, "api.readonly.com", 8080, "DELETE", "/anything", DENY, NULL, NULL},
        {L7, CURL, {0}, "api.full.com", 8080, "DELETE", "/any/path", ALLOW, "c_full", NULL}, /* 53
                                                                                              */
        {L7,
         CURL,
         {0},
         "api.query.com",
         8080,
         "GET",
         "/download?tag=foo-a&tag=foo-b&extra=ignored",
         ALLOW,
         "d_query",
         NULL}, /* 54 */
        {L7,
         CURL,
         {0},
         "api.query.com",
         8080,
         "GET",
         "/download?tag=foo-a&tag=evil",
         DENY,
         NULL,
         NULL}, /* 55 */
        {L7,
         CURL,
         {0},
         "api.query.com",
         8080,
         "GET",
         "/search?tag=foo-a&tag=bar-b",
         ALLOW,
         NULL,
         NULL},                                                                       /* 56 */
        {L7, CURL, {0}, "api.query.com", 8080, "GET", "/download", DENY, NULL, NULL}, /* 57 */
        {L7,
         CURL,
         {0},
         "api.query.com",
         8080,
         "GET",
         "/download?tag=foo-1.2",
         ALLOW,
         NULL,
         NULL}, /* no `.` delimiter */
        {L7,
         CURL,
         {0},
         "api.query.com",
         8080,
         "GET",
         "/download?tag=foo%2Dx",
         ALLOW,
         NULL,
         NULL}, /* decoded first */
        {L7,
         CURL,
         {0},
         "api.query.com",
         8080,
         "GET",
         "/download?tag=bad%2",
         DENY,
         NULL,
         "query refused"},
        {L7,
         CURL,
         {0},
         "l4only.example.com",
         443,
         "GET",
         "/anything",
         DENY,
         NULL,
         "cannot be checked"},                                                              /* 59 */
        {L7, CURL, {0}, "x.example.net", 8080, "GET", "/api/foo", ALLOW, "wild_api", NULL}, /* 60 */
        {L7, CURL, {0}, "x.example.net", 8080, "DELETE", "/api/foo", DENY, NULL, NULL},     /* 61 */
        {L7, CURL, {0}, "api.ports.com", 8080, "GET", "/anything", ALLOW, "ports", NULL},   /* 62 */
        {L7, CURL, {0}, "api.ports.com", 9090, "GET", "/anything", ALLOW, "ports", NULL},
        {L7, CURL, {0}, "h.test", 80, "HEAD", "/", DENY, NULL, NULL}, /* 64 */
        {L7, CURL, {0}, "h.test", 80, "POST", "/", ALLOW, "h_post", NULL},
        {L7,
         CURL,
         {0},
         "h2.test",
         80,
         "HEAD",
         "/protected",
         DENY,
         "h_full",
         "blocked by deny rule"}, /* 65 */
        {L7, CURL, {0}, "h2.test", 80, "POST", "/protected", ALLOW, NULL, NULL},
        {L7,
         CURL,
         {0},
         "api.github.test",
         443,
         "POST",
         "/repos/org/repo/issues",
         ALLOW,
         "sel",
         NULL}, /* 66 */
        {L7,
         CURL,
         {0},
         "api.github.test",
         443,
         "POST",
         "/graphql",
         DENY,
         "sel",
         "not inspected by agentcage yet"},
        {L7, CURL, {0}, "api.github.test", 443, "GET", "/user", DENY, NULL, "no L7 endpoint path"},
        /* §9.5 git smart HTTP */
        {L7,
         CURL,
         {0},
         "git.example.com",
         443,
         "GET",
         "/NVIDIA/OpenShell.git/info/refs",
         ALLOW,
         "git",
         NULL}, /* 69 */
        {L7,
         CURL,
         {0},
         "git.example.com",
         443,
         "POST",
         "/NVIDIA/OpenShell.git/git-upload-pack",
         ALLOW,
         "git",
         NULL}, /* 70 */
        {L7,
         CURL,
         {0},
         "git.example.com",
         443,
         "POST",
         "/NVIDIA/OpenShell.git/git-receive-pack",
         DENY,
         "git",
         NULL}, /* 71 */
        /* §9.6 deny rules */
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "POST",
         "/repos/myorg/pulls/123/reviews",
         DENY,
         "e_deny",
         "POST /repos/myorg/pulls/123/reviews blocked by deny rule"}, /* 72 */
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "GET",
         "/repos/myorg/issues",
         ALLOW,
         "e_deny",
         NULL}, /* 73 */
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "POST",
         "/repos/myorg/issues",
         ALLOW,
         NULL,
         NULL}, /* 74 */
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "GET",
         "/repos/myorg/rulesets",
         DENY,
         NULL,
         "deny_rules[2]"}, /* 75 */
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "PUT",
         "/repos/myorg/branches/main/protection",
         DENY,
         NULL,
         NULL}, /* 76 */
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "DELETE",
         "/repos/myorg/issues",
         DENY,
         NULL,
         "(access: read-write)"}, /* 77 */
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "POST",
         "/repos/myorg/pulls/1/../123/reviews",
         DENY,
         NULL,
         "blocked by deny rule"},
        {L7,
         CURL,
         {0},
         "api.restricted.com",
         443,
         "POST",
         "/admin/settings?force=true",
         DENY,
         "f_admin",
         NULL}, /* 78 */
        {L7,
         CURL,
         {0},
         "api.restricted.com",
         443,
         "POST",
         "/admin/settings?force=false",
         ALLOW,
         NULL,
         NULL}, /* 79 */
        {L7,
         CURL,
         {0},
         "api.restricted.com",
         443,
         "POST",
         "/admin/settings?force=true&force=false",
         DENY,
         NULL,
         NULL}, /* 80 */
        {L7,
         CURL,
         {0},
         "api.restricted.com",
         443,
         "POST",
         "/admin/settings",
         ALLOW,
         NULL,
         NULL}, /* 81 */
        /* audit mode, encoded slash, most specific endpoint */
        {L7, CURL, {0}, "audit.example.com", 443, "GET", "/ok", ALLOW, "audit_rules", NULL},
        {L7,
         CURL,
         {0},
         "audit.example.com",
         443,
         "POST",
         "/other",
         AUDIT,
         "audit_rules",
         "audit mode"},
        {L7,
         CURL,
         {0},
         "audit.example.com",
         443,
         "GET",
         "/../x",
         DENY,
         NULL,
         "climbs above the root"},
        {L7,
         CURL,
         {0},
         "gitlab.example.com",
         443,
         "GET",
         "/api/v4/projects/group%2fproject/issues",
         ALLOW,
         "encoded",
         NULL},
        {L7,
         CURL,
         {0},
         "gitlab.example.com",
         443,
         "GET",
         "/api/v4/projects/..%2fx/issues",
         DENY,
         NULL,
         "hidden next to an encoded"},
        {L7,
         CURL,
         {0},
         "api.github.com",
         443,
         "GET",
         "/repos/a%2fb",
         DENY,
         NULL,
         "allow_encoded_slash"},
        {L7, CURL, {0}, "spec.example.com", 443, "POST", "/x", ALLOW, "specific", NULL},
        {L7,
         CURL,
         {0},
         "spec.example.com",
         443,
         "POST",
         "/admin/x",
         DENY,
         "specific",
         "(access: read-only)"},
        {L7, CURL, {0}, "spec.example.com", 443, "GET", "/admin/x", ALLOW, "specific", NULL},
};

/* --- runner --- */

static struct policy *g_default;
static struct {
	const char *src;
	struct policy *p;
	struct engine *e;
} g_pols[3] = {{p_fixture, NULL, NULL}, {p_match, NULL, NULL}, {p_l7, NULL, NULL}};
static struct engine *g_default_e;

static struct engine *
engine_for(const char *src)
{
	if (src == NULL)
		return g_default_e;
	for (size_t i = 0; i < NELEM(g_pols); i++)
		if (g_pols[i].src == src)
			return g_pols[i].e;
	return NULL;
}

static int
load_all(void)
{
	struct diag d = {0};
	int rc = 0;

	if (policy_load_default(&d, &g_default) == -1) {
		diag_print(&d, stdout);
		rc = -1;
	}
	diag_free(&d);
	g_default_e = g_default ? engine_new(g_default) : NULL;
	for (size_t i = 0; i < NELEM(g_pols); i++) {
		if (policy_load_buffer("inline", g_pols[i].src, strlen(g_pols[i].src), &d,
		                       &g_pols[i].p) == -1) {
			printf("# inline policy %zu:\n", i);
			diag_print(&d, stdout);
			rc = -1;
		}
		diag_free(&d);
		g_pols[i].e = g_pols[i].p ? engine_new(g_pols[i].p) : NULL;
	}
	return rc;
}

static void
free_all(void)
{
	engine_free(g_default_e);
	policy_free(g_default);
	for (size_t i = 0; i < NELEM(g_pols); i++) {
		engine_free(g_pols[i].e);
		policy_free(g_pols[i].p);
	}
}

static const char *const want_name[] = {"allow", "deny", "audit"};

static void
run_case(size_t i, const struct dcase *c)
{
	static char canon[CANON_OUT_MAX + ENGINE_MAX_QUERY + 2];
	const struct engine *e = engine_for(c->policy);
	struct ident id = {c->exe, c->anc, 0};
	struct decision d;
	int rc;

	while (id.nancestors < NELEM(c->anc) && c->anc[id.nancestors])
		id.nancestors++;
	if (e == NULL) {
		t_skip("case %zu: its policy did not load", i);
		return;
	}
	if (c->method)
		rc = engine_decide_request(e, &id, c->host, c->port, c->method, c->target,
		                           strlen(c->target), &d, canon, sizeof(canon));
	else
		rc = engine_decide_connect(e, &id, c->host, c->port, &d);
	enum want got = d.allow ? (d.audit ? AUDIT : ALLOW) : DENY;
	bool ok = rc == 0 && got == c->want &&
	          (!c->block || (d.block && strcmp(d.block->key, c->block) == 0)) &&
	          (!c->reason || strstr(d.reason, c->reason));
	T_OK(ok, "case %zu: %s %s:%u %s%s%s -> %s%s%s", i, c->exe ? c->exe : "(none)", c->host,
	     c->port, c->method ? c->method : "", c->method ? " " : "", c->method ? c->target : "",
	     want_name[c->want], c->block ? " by " : "", c->block ? c->block : "");
	if (!ok)
		printf("#   got %s, block %s, reason: %s\n", want_name[got],
		       d.block ? d.block->key : "(none)", d.reason);
}

/* --- decision metadata --- */

static void
test_metadata(void)
{
	static char canon[CANON_OUT_MAX + ENGINE_MAX_QUERY + 2];
	const char *const claude_anc[] = {CLAUDE};
	struct ident claude = {CLAUDE, NULL, 0}, git = {GIT, NULL, 0}, node = {NODE, claude_anc, 1};
	struct ident curl = {CURL, NULL, 0};
	struct decision d;

	if (!g_default_e || !g_pols[1].e) {
		t_skip("policies did not load");
		return;
	}
	engine_decide_connect(g_default_e, &claude, "api.anthropic.com", 443, &d);
	T_OK(d.allow && d.inspect && d.endpoint && d.endpoint->protocol == POL_PROTO_REST,
	     "claude to api.anthropic.com is inspected (rest endpoint)");
	engine_decide_connect(g_default_e, &claude, "statsig.anthropic.com", 443, &d);
	T_OK(d.allow && !d.inspect && d.endpoint == NULL && d.exact_host,
	     "statsig.anthropic.com is passed through (L4 endpoint), exact host");
	engine_decide_connect(g_default_e, &node, "api.github.com", 443, &d);
	T_OK(d.allow && d.inspect && strcmp(d.block->key, "github_rest_api") == 0,
	     "node under claude to api.github.com is inspected by github_rest_api");
	engine_decide_request(g_default_e, &git, "github.com", 443, "GET",
	                      "/o/r.git/./info/refs?service=git-upload-pack", 44, &d, canon,
	                      sizeof(canon));
	T_STREQ(canon, "/o/r.git/info/refs?service=git-upload-pack",
	        "canonical target keeps the raw query for forwarding");
	engine_decide_request(g_default_e, &git, "github.com", 443, "GET", "/../x", 5, &d, canon,
	                      sizeof(canon));
	T_STREQ(canon, "", "a refused target leaves the canonical buffer empty");
	engine_decide_connect(g_pols[1].e, &curl, "203.0.113.10", 443, &d);
	T_OK(d.allow == false, "curl is not in connect_test's binaries");
	struct ident ct = {"/tmp/openshell-connect-test/connect-bash", NULL, 0};
	engine_decide_connect(g_pols[1].e, &ct, "203.0.113.10", 443, &d);
	T_OK(d.allow && d.endpoint && d.endpoint->tls == POL_TLS_SKIP && !d.inspect,
	     "tls: skip endpoint is returned and not inspected");
	T_OK(engine_decide_connect(NULL, &curl, "x", 1, &d) == -1 && errno == EINVAL,
	     "NULL engine is EINVAL");
	T_OK(engine_decide_request(g_default_e, &git, "github.com", 443, "GET", "/", 1, &d, canon,
	                           0) == -1 &&
	             errno == EINVAL,
	     "zero canon capacity is EINVAL");
	T_OK(engine_new(NULL) == NULL && errno == EINVAL, "engine_new(NULL) is EINVAL");

	/* An empty policy: no blocks at all. */
	struct policy *p = NULL;
	struct diag dg = {0};
	static const char empty[] = "version: 1\n";
	if (policy_load_buffer("empty", empty, sizeof(empty) - 1, &dg, &p) == 0) {
		struct engine *e = engine_new(p);
		engine_decide_connect(e, &curl, "example.com", 443, &d);
		T_OK(!d.allow && strstr(d.reason, "no network_policies"),
		     "a policy without blocks denies: %s", d.reason);
		engine_free(e);
	} else {
		t_skip("the loader refused a policy with only a version");
	}
	diag_free(&dg);
	policy_free(p);
}

/* --- policy binaries that are symlinks in the sandbox (§3.6) --- */

static void
test_symlinked_binaries(void)
{
	static const char pol[] = "version: 1\n"
	                          "network_policies:\n"
	                          "  pypi:\n"
	                          "    endpoints: [ { host: pypi.org, port: 443 } ]\n"
	                          "    binaries: [ { path: /sandbox/.venv/bin/python }, "
	                          "{ path: /bin/bash } ]\n";
	char root[] = "/tmp/agentcage-engroot-XXXXXX", p[PATH_MAX], cmd[PATH_MAX + 16];
	const struct ident py = {"/usr/bin/python3.11", NULL, 0};
	const struct ident bash = {"/usr/bin/bash", NULL, 0};
	const struct ident nc = {"/usr/bin/nc", NULL, 0};
	struct policy *pl = NULL;
	struct diag dg = {0};
	struct engine *e;
	struct decision d;
	bool built;

	T_OK(mkdtemp(root) != NULL, "temp root");
	snprintf(cmd, sizeof(cmd),
	         "cd %s && mkdir -p usr/bin sandbox/.venv/bin && touch usr/bin/python3.11 "
	         "usr/bin/bash usr/bin/nc && ln -s usr/bin bin && ln -s python3.11 "
	         "usr/bin/python3 && ln -s /usr/bin/python3 sandbox/.venv/bin/python",
	         root);
	built = system(cmd) == 0;
	T_OK(built, "a merged-/usr tree with a venv");
	if (policy_load_buffer("links", pol, sizeof(pol) - 1, &dg, &pl) != 0 || !built) {
		t_skip("policy or tree not built");
		goto out;
	}
	e = engine_new(pl);
	engine_decide_connect(e, &py, "pypi.org", 443, &d);
	T_OK(!d.allow, "without a root the venv's real python is not the listed path");
	T_OK(engine_set_root(e, root) == 0, "engine_set_root");
	engine_decide_connect(e, &py, "pypi.org", 443, &d);
	T_OK(d.allow, "/usr/bin/python3.11 matches the listed venv symlink: %s", d.reason);
	engine_decide_connect(e, &bash, "pypi.org", 443, &d);
	T_OK(d.allow, "/usr/bin/bash matches /bin/bash through the /bin directory link");
	engine_decide_connect(e, &nc, "pypi.org", 443, &d);
	T_OK(!d.allow && strstr(d.reason, "/sandbox/.venv/bin/python -> /usr/bin/python3.11"),
	     "another binary stays denied, the reason shows what the link names: %s", d.reason);
	/* The sandbox re-points its venv: the next refusal refreshes what the link names. */
	snprintf(p, sizeof(p), "%s/sandbox/.venv/bin/python", root);
	T_OK(unlink(p) == 0 && symlink("/usr/bin/nc", p) == 0, "re-point the venv link to nc");
	engine_decide_connect(e, &py, "pypi.org", 443, &d);
	T_OK(!d.allow, "what a re-pointed link named before no longer matches, at once");
	engine_decide_connect(e, &nc, "pypi.org", 443, &d);
	T_OK(d.allow, "and what it names now does");
	engine_free(e);
out:
	diag_free(&dg);
	policy_free(pl);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	T_OK(system(cmd) == 0, "remove the temp root");
}

/* --- destination addresses (§4.7, §9.11) --- */

struct acase {
	const char *exe, *host;
	uint16_t port;
	const char *ip;
	const char *reason; /* NULL: allowed */
};

static const struct acase addr_cases[] = {
        {CURL, "api.example.com", 443, "93.184.216.34", NULL},
        {CURL, "api.example.com", 443, "10.0.0.1", "internal address 10.0.0.1 (private)"},
        {CURL, "api.example.com", 443, "169.254.169.254",
         "internal address 169.254.169.254 (cloud metadata)"},
        {CURL, "api.example.com", 443, "::ffff:127.0.0.1", "internal address 127.0.0.1 (loopback)"},
        {CURL, "api.example.com", 443, "fd00::1", "internal address fd00::1 (private)"},
        {CURL, "api.example.com", 443, "100.64.0.1", "carrier-grade NAT"},
        {CURL, "api.corp.net", 443, "10.0.0.1",
         "internal address"},                                /* wildcard: not an exact host */
        {CURL, "anything.internal", 8081, "10.1.2.3", NULL}, /* hostless, allowed_ips */
        {CURL, "anything.internal", 8081, "192.168.1.1", NULL},
        {CURL, "anything.internal", 8081, "192.168.1.2",
         "which is not in allowed_ips of block hostless"},
        {CURL, "anything.internal", 8081, "8.8.8.8", "not in allowed_ips"},
        {CURL, "anything.internal", 8081, "127.0.0.1", "always-blocked address 127.0.0.1"},
        {CURL, "my-service.corp.net", 8080, "10.0.5.7", NULL},
        {CURL, "my-service.corp.net", 8080, "10.0.6.1", "not in allowed_ips"},
        {CURL, "my-service.corp.net", 8080, "169.254.169.254", "always-blocked"},
        /* an exact declared host without allowed_ips reaches public addresses only */
        {CURL, "api.example.org", 443, "93.184.216.34", NULL},
        {CURL, "api.example.org", 443, "10.0.0.5", "internal address 10.0.0.5 (private)"},
        {CURL, "api.example.org", 443, "192.168.1.9", "hint: list the address"},
        {CURL, "api.example.org", 443, "127.0.0.1", "internal address 127.0.0.1 (loopback)"},
        {CURL, "api.example.org", 443, "::1", "internal address ::1 (loopback)"},
        {CURL, "api.example.org", 443, "0.0.0.0", "internal address"},
        {CURL, "api.example.org", 443, "fe80::1", "internal address fe80::1"},
        {CURL, "api.example.org", 443, "169.254.169.254", "internal address 169.254.169.254"},
        {CURL, "k8s.corp.net", 6443, "10.0.0.5", "port 6443 is a blocked control-plane port"},
        {"/tmp/openshell-connect-test/x", "203.0.113.10", 443, "203.0.113.10",
         NULL}, /* literal: itself */
        {"/tmp/openshell-connect-test/x", "203.0.113.10", 443, "203.0.113.11", "not to itself"},
};

static void
test_addresses(void)
{
	const struct engine *e = g_pols[1].e;

	if (!e) {
		t_skip("match policy did not load");
		return;
	}
	for (size_t i = 0; i < NELEM(addr_cases); i++) {
		const struct acase *c = &addr_cases[i];
		struct ident id = {c->exe, NULL, 0};
		struct sockaddr_storage ss = {0};
		struct decision d;
		char why[512];

		if (strchr(c->ip, ':')) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			inet_pton(AF_INET6, c->ip, &s6->sin6_addr);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			inet_pton(AF_INET, c->ip, &s4->sin_addr);
		}
		engine_decide_connect(e, &id, c->host, c->port, &d);
		if (!d.allow) {
			T_OK(0, "address case %zu: connect to %s:%u denied: %s", i, c->host,
			     c->port, d.reason);
			continue;
		}
		int rc = engine_check_address(e, &d, c->host, (struct sockaddr *)&ss, c->port, why,
		                              sizeof(why));
		if (c->reason == NULL)
			T_OK(rc == 0, "%s:%u may dial %s", c->host, c->port, c->ip);
		else
			T_OK(rc == -1 && errno == EACCES && strstr(why, c->reason),
			     "%s:%u refused %s: %s", c->host, c->port, c->ip,
			     rc == 0 ? "(allowed)" : why);
	}
	struct decision denied = {0};
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	char why[64];
	T_OK(engine_check_address(e, &denied, "x", (struct sockaddr *)&s4, 443, why, sizeof(why)) ==
	                     -1 &&
	             errno == EINVAL,
	     "checking an address of a denied decision is EINVAL");

	/* allowed_ips covering an always-blocked range refuses every address at connect time. */
	static const char bad[] = "version: 1\nnetwork_policies:\n  lo:\n"
	                          "    endpoints: [ { host: lo.example.com, port: 443, "
	                          "allowed_ips: [127.0.0.0/8] } ]\n"
	                          "    binaries: [ { path: /usr/bin/curl } ]\n";
	struct policy *p = NULL;
	struct diag dg = {0};
	if (policy_load_buffer("bad-ips", bad, sizeof(bad) - 1, &dg, &p) == 0) {
		struct engine *be = engine_new(p);
		struct ident id = {CURL, NULL, 0};
		struct decision d;
		inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
		engine_decide_connect(be, &id, "lo.example.com", 443, &d);
		char w[512];
		T_OK(d.allow &&
		             engine_check_address(be, &d, "lo.example.com", (struct sockaddr *)&s4,
		                                  443, w, sizeof(w)) == -1 &&
		             strstr(w, "invalid allowed_ips"),
		     "allowed_ips 127.0.0.0/8 is refused when used: %s", w);
		engine_free(be);
	} else {
		T_OK(dg.nerrors > 0, "the loader refuses allowed_ips 127.0.0.0/8 already");
	}
	diag_free(&dg);
	policy_free(p);
}

/* --- the OpenShell corpus: every policy compiles, and every declared (exact host, port,
 * exact binary) triple is allowed at L4 --- */

static void
corpus_check_policy(const char *name, const struct policy *p)
{
	struct engine *e = engine_new(p);
	size_t tried = 0, bad = 0;
	struct decision d;

	for (size_t b = 0; b < p->nblocks; b++) {
		const struct pol_block *blk = &p->blocks[b];
		for (size_t i = 0; i < blk->nendpoints; i++) {
			const struct pol_endpoint *ep = &blk->endpoints[i];
			if (ep->host[0] == '\0' || strchr(ep->host, '*'))
				continue;
			for (size_t k = 0; k < ep->nports; k++)
				for (size_t j = 0; j < blk->nbinaries; j++) {
					struct ident id = {blk->binaries[j].path, NULL, 0};
					if (strchr(id.exe, '*'))
						continue;
					tried++;
					engine_decide_connect(e, &id, ep->host, ep->ports[k], &d);
					if (!d.allow) {
						bad++;
						printf("#   %s: %s -> %s:%u denied: %s\n", name,
						       id.exe, ep->host, ep->ports[k], d.reason);
					}
				}
		}
	}
	T_OK(bad == 0, "corpus %s: %zu declared (binary, host, port) triples are allowed", name,
	     tried);
	engine_free(e);
}

static void
test_corpus(void)
{
	const char *env = getenv("AGENTCAGE_SHARED");
	char dir[1024], path[1400];
	struct dirent *de;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/corpus/openshell-policies", env && *env ? env : "../shared");
	dh = opendir(dir);
	if (dh == NULL) {
		t_skip("no OpenShell corpus at %s (set AGENTCAGE_SHARED)", dir);
		return;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 5, ".yaml") != 0)
			continue;
		struct policy *p = NULL;
		struct diag dg = {0};
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (policy_load_file(path, &dg, &p) == 0)
			corpus_check_policy(de->d_name, p);
		else
			t_skip("%s does not load (the loader's test reports it)", de->d_name);
		diag_free(&dg);
		policy_free(p);
	}
	closedir(dh);
}

int
main(void)
{
	T_OK(load_all() == 0, "default and inline policies load");
	T_OK(NELEM(table) >= 80, "the decision table has %zu cases", NELEM(table));
	for (size_t i = 0; i < NELEM(table); i++)
		run_case(i, &table[i]);
	test_metadata();
	test_symlinked_binaries();
	test_addresses();
	test_corpus();
	free_all();
	return t_done();
}
