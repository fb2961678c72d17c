/* load: policy loader entry points, the YAML document, and the static sections
 * (version, filesystem_policy, landlock, process) and network_policies blocks. */
#include "policy/load.h"

#include <errno.h>
#include <string.h>

#include "policy/load_int.h"
#include "util/arena.h"
#include "util/sha256.h"
#include "util/util.h"

#define LD_NO_MARK ((struct pol_mark){ 0, 0 })

/* --- the YAML document --- */

static void
ld_yaml_error(struct ld *l, const yaml_parser_t *ps)
{
	const yaml_mark_t *m = ps->problem ? &ps->problem_mark : &ps->context_mark;
	struct pol_mark pm = { (uint32_t)m->line + 1, (uint32_t)m->column + 1 };

	if (ps->error == YAML_MEMORY_ERROR) {
		diag_add(l->d, DIAG_ERROR, l->file, LD_NO_MARK, NULL, "out of memory parsing YAML");
		return;
	}
	diag_add(l->d, DIAG_ERROR, l->file, pm, NULL, "invalid YAML: %s%s%s%s; hint: check the "
		 "indentation and quoting around this spot",
		 ps->problem ? ps->problem : "syntax error", ps->context ? " (" : "",
		 ps->context ? ps->context : "", ps->context ? ")" : "");
}

/*
 * Event pass before building the tree: rejects nesting deeper than POLICY_MAX_DEPTH
 * (libyaml has no limit of its own) and multi-document streams, with a location.
 */
static int
ld_prescan(struct ld *l, const char *buf, size_t len)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	unsigned depth = 0, docs = 0;
	int rc = -1;

	if (!yaml_parser_initialize(&ps))
		fatal("yaml: out of memory");
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	for (;;) {
		struct pol_mark m;

		if (!yaml_parser_parse(&ps, &ev)) {
			ld_yaml_error(l, &ps);
			goto out_parser;
		}
		m = (struct pol_mark){ (uint32_t)ev.start_mark.line + 1,
				       (uint32_t)ev.start_mark.column + 1 };
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > POLICY_MAX_DEPTH) {
				diag_add(l->d, DIAG_ERROR, l->file, m, NULL,
					 "YAML nested deeper than %d levels; hint: a policy "
					 "needs far fewer",
					 POLICY_MAX_DEPTH);
				yaml_event_delete(&ev);
				goto out_parser;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				diag_add(l->d, DIAG_ERROR, l->file, m, NULL,
					 "more than one YAML document; hint: a policy file holds "
					 "one document, remove the `---` separator");
				yaml_event_delete(&ev);
				goto out_parser;
			}
			break;
		default:
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	rc = 0;
out_parser:
	yaml_parser_delete(&ps);
	return rc;
}

/* --- filesystem_policy, landlock, process --- */

static int
ld_fs_path(struct ld *l, size_t i, yaml_node_t *item, void *arg)
{
	bool rw = *(bool *)arg;
	char **slot;
	char *s;

	(void)i;
	if (ld_str(l, item, &s) == -1)
		return -1;
	if (s[0] != '/') {
		ld_err(l, item, "path `%s` is relative; hint: write an absolute path such as /%s", s,
		       s);
		return -1;
	}
	if (strlen(s) > POLICY_MAX_PATH_LEN) {
		ld_err(l, item, "path is %zu bytes long, more than %d", strlen(s),
		       POLICY_MAX_PATH_LEN);
		return -1;
	}
	for (const char *c = s; (c = strstr(c, "..")) != NULL; c += 2) {
		if (c[-1] == '/' && (c[2] == '/' || c[2] == '\0')) {
			ld_err(l, item, "path `%s` contains a `..` component; hint: write the "
					"resolved path",
			       s);
			return -1;
		}
	}
	vd_normalize_path(s);
	if (rw && !strcmp(s, "/")) {
		ld_err(l, item, "read_write `/` is overly broad: it makes the whole filesystem "
				"writable; hint: list the directories the agent writes");
		return -1;
	}
	if (rw)
		slot = arena_push(l->a, &l->p->read_write, &l->p->nread_write, sizeof(char *));
	else
		slot = arena_push(l->a, &l->p->read_only, &l->p->nread_only, sizeof(char *));
	*slot = s;
	return 0;
}

static int
ld_fs_ro(struct ld *l, yaml_node_t *v, void *obj)
{
	bool rw = false;

	(void)obj;
	return ld_seq_each(l, v, ld_fs_path, &rw);
}

static int
ld_fs_rw(struct ld *l, yaml_node_t *v, void *obj)
{
	bool rw = true;

	(void)obj;
	return ld_seq_each(l, v, ld_fs_path, &rw);
}

static const struct ld_field fs_fields[] = {
	{ .name = "include_workdir", .kind = LK_BOOL, .off = offsetof(struct policy, include_workdir) },
	{ .name = "read_only", .kind = LK_FN, .fn = ld_fs_ro },
	{ .name = "read_write", .kind = LK_FN, .fn = ld_fs_rw },
};

static int
ld_filesystem(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_seen seen;
	struct policy *p = obj;
	int rc;

	p->has_filesystem = true;
	rc = ld_object(l, v, "filesystem_policy", fs_fields, NELEM(fs_fields), p, &seen);
	if (p->nread_only + p->nread_write > POLICY_MAX_FS_PATHS) {
		ld_err(l, v, "%zu paths in read_only and read_write, more than %d; hint: grant a "
			     "parent directory instead of many children",
		       p->nread_only + p->nread_write, POLICY_MAX_FS_PATHS);
		rc = -1;
	}
	return rc;
}

static const char *const compat_names[] = { "best_effort", "hard_requirement", NULL };

static const struct ld_field landlock_fields[] = {
	{ .name = "compatibility", .kind = LK_ENUM, .off = offsetof(struct policy, compat),
	  .names = compat_names },
};

static int
ld_landlock(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_seen seen;
	struct policy *p = obj;

	p->has_landlock = true;
	return ld_object(l, v, "landlock", landlock_fields, NELEM(landlock_fields), p, &seen);
}

/*
 * `sandbox`, a name other than root (resolved when the sandbox starts), or a decimal
 * id in 1..4294967294: 0 is root and 4294967295 is (uid_t)-1, "no change" to setresuid.
 */
static int
ld_identity(struct ld *l, yaml_node_t *v, char **out, const char *what)
{
	const char *errstr;
	char *s;

	if (ld_str(l, v, &s) == -1)
		return -1;
	if (s[0] == '\0') {
		*out = NULL; /* empty = the default, as omitted */
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9') {
		ut_strtonum(s, 1, 4294967294LL, &errstr);
		if (errstr) {
			ld_err(l, v, "%s id `%s` is not in 1..4294967294 (0 is root); hint: use "
				     "`sandbox` or an unprivileged id",
			       what, s);
			return -1;
		}
	} else if (!strcmp(s, "root")) {
		ld_err(l, v, "%s `root` is refused: the agent must not run as root; hint: use "
			     "`sandbox` (created by `agentcage setup`)",
		       what);
		return -1;
	} else {
		for (const char *c = s; *c; c++) {
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.')) {
				ld_err(l, v, "%s `%s` is not a valid name; accepted: `sandbox`, a "
					     "user name, or an id in 1..4294967294",
				       what, s);
				return -1;
			}
		}
	}
	*out = s;
	return 0;
}

static int
ld_run_as_user(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_identity(l, v, &((struct policy *)obj)->run_as_user, "user");
}

static int
ld_run_as_group(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_identity(l, v, &((struct policy *)obj)->run_as_group, "group");
}

static const struct ld_field process_fields[] = {
	{ .name = "run_as_user", .kind = LK_FN, .fn = ld_run_as_user },
	{ .name = "run_as_group", .kind = LK_FN, .fn = ld_run_as_group },
};

static int
ld_process(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_seen seen;
	struct policy *p = obj;

	p->has_process = true;
	return ld_object(l, v, "process", process_fields, NELEM(process_fields), p, &seen);
}

/* --- network_policies --- */

static const struct ld_field binary_fields[] = {
	{ .name = "path", .kind = LK_STR, .off = offsetof(struct pol_binary, path), .required = true },
	{ .name = "harness", .kind = LK_BOOL, .off = offsetof(struct pol_binary, harness) },
};

static int
ld_binary(struct ld *l, size_t i, yaml_node_t *item, void *arg)
{
	struct pol_block *b = arg;
	struct pol_binary bin = { 0 };
	struct ld_seen seen;
	size_t ip = ld_field_idx(binary_fields, NELEM(binary_fields), "path");
	size_t ih = ld_field_idx(binary_fields, NELEM(binary_fields), "harness");

	(void)i;
	bin.mark = ld_mark(item);
	if (ld_object(l, item, "a binary", binary_fields, NELEM(binary_fields), &bin, &seen) == -1)
		return -1;
	if (bin.path[0] == '\0') {
		ld_diag_field(l, DIAG_ERROR, &seen, binary_fields, ip, item,
			      "empty binary path; hint: write the absolute path of the program, "
			      "e.g. /usr/bin/curl");
		return -1;
	}
	if (bin.path[0] != '/')
		ld_diag_field(l, DIAG_WARNING, &seen, binary_fields, ip, item,
			      "binary path `%s` is relative and never matches a running program; "
			      "hint: write its absolute path",
			      bin.path);
	if (seen.mask & (1ULL << ih))
		ld_diag_field(l, DIAG_WARNING, &seen, binary_fields, ih, item,
			      "`harness` is deprecated and ignored; hint: remove it");
	*(struct pol_binary *)arena_push(l->a, &b->binaries, &b->nbinaries, sizeof(bin)) = bin;
	return 0;
}

static int
ld_binaries(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_seq_each(l, v, ld_binary, obj);
}

static const struct ld_field block_fields[] = {
	{ .name = "name", .kind = LK_STR, .off = offsetof(struct pol_block, name) },
	{ .name = "endpoints", .kind = LK_FN, .fn = ld_endpoints },
	{ .name = "binaries", .kind = LK_FN, .fn = ld_binaries },
};

static int
ld_block(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct pol_block b = { 0 };
	struct ld_seen seen;
	int rc = 0;

	(void)arg;
	b.key = arena_strdup(l->a, key);
	b.mark = ld_mark(k);
	if (!strncmp(key, "_provider_", strlen("_provider_"))) {
		ld_err(l, k, "block names starting with `_provider_` are reserved for provider "
			     "profiles; hint: rename the block");
		rc = -1;
	}
	if (ld_object(l, v, "a network policy", block_fields, NELEM(block_fields), &b, &seen) == -1)
		rc = -1;
	if (rc == -1 && v->type != YAML_MAPPING_NODE)
		return -1;
	if (b.name == NULL)
		b.name = b.key;
	if (b.nbinaries == 0)
		ld_diag_at(l, DIAG_WARNING, ld_mark(k),
			   "no binaries: this block allows no program and so denies everything; "
			   "hint: list the programs under `binaries: [{path: /usr/bin/...}]`");
	*(struct pol_block *)arena_push(l->a, &l->p->blocks, &l->p->nblocks, sizeof(b)) = b;
	return rc;
}

static int
ld_network_policies(struct ld *l, yaml_node_t *v, void *obj)
{
	(void)obj;
	l->p->network_policies_set = true;
	return ld_map_each(l, v, "network_policies", ld_block, NULL);
}

static int
ld_network_middlewares(struct ld *l, yaml_node_t *v, void *obj)
{
	(void)obj;
	return ld_middlewares(l, v);
}

/* --- top level --- */

static const struct ld_field top_fields[] = {
	{ .name = "version", .kind = LK_U32, .off = offsetof(struct policy, version), .required = true },
	{ .name = "filesystem_policy", .kind = LK_FN, .fn = ld_filesystem },
	{ .name = "landlock", .kind = LK_FN, .fn = ld_landlock },
	{ .name = "process", .kind = LK_FN, .fn = ld_process },
	{ .name = "network_policies", .kind = LK_FN, .fn = ld_network_policies },
	{ .name = "network_middlewares", .kind = LK_FN, .fn = ld_network_middlewares },
};

static int
ld_document(struct ld *l, const char *buf, size_t len)
{
	yaml_parser_t ps;
	yaml_document_t doc;
	yaml_node_t *root;
	struct ld_seen seen;
	int rc = -1;

	if (ld_prescan(l, buf, len) == -1)
		return -1;
	if (!yaml_parser_initialize(&ps))
		fatal("yaml: out of memory");
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&ps, &doc)) {
		ld_yaml_error(l, &ps);
		goto out_parser;
	}
	l->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		diag_add(l->d, DIAG_ERROR, l->file, LD_NO_MARK, NULL,
			 "the policy is empty; hint: start with `version: 1` (see `agentcage "
			 "policy default`)");
	} else if (root->type != YAML_MAPPING_NODE) {
		ld_err(l, root, "a policy is a map of sections, found %s; hint: start with "
				"`version: 1`",
		       ld_kind_str(root));
	} else {
		rc = ld_object(l, root, "the policy", top_fields, NELEM(top_fields), l->p, &seen);
		if (!l->over_budget)
			vd_policy(l);
	}
	l->doc = NULL;
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&ps);
	return rc;
}

int
policy_load_buffer(const char *name, const char *buf, size_t len, struct diag *d,
		   struct policy **out)
{
	size_t errors0 = d->nerrors;
	struct policy *p;
	struct ld l;

	*out = NULL;
	if (len > POLICY_MAX_BYTES) {
		diag_add(d, DIAG_ERROR, name, LD_NO_MARK, NULL,
			 "the policy is %zu bytes, more than the %d-byte limit; hint: a policy "
			 "this large is almost certainly not one; check the file name",
			 len, POLICY_MAX_BYTES);
		return -1;
	}
	if (memchr(buf, '\0', len)) {
		diag_add(d, DIAG_ERROR, name, LD_NO_MARK, NULL,
			 "the policy contains a NUL byte; hint: a policy is a UTF-8 text file");
		return -1;
	}
	p = ut_xcalloc(1, sizeof(*p));
	memset(&l, 0, sizeof(l));
	l.p = p;
	l.a = &p->arena;
	l.d = d;
	l.file = name;
	p->source = arena_strdup(&p->arena, name);
	p->text = arena_strndup(&p->arena, buf, len);
	p->text_len = len;
	ld_document(&l, buf, len);
	if (d->nerrors != errors0) {
		policy_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int
policy_hash(struct policy *p)
{
	if (p->hashed)
		return 0;
	if (sha256_buf(p->text, p->text_len, p->sha256) == -1)
		return -1;
	p->hashed = true;
	return 0;
}

int
policy_load_file(const char *path, struct diag *d, struct policy **out)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	if (ut_read_file(path, POLICY_MAX_BYTES, &buf, &len) == -1) {
		int err = errno;

		if (err == EFBIG)
			diag_add(d, DIAG_ERROR, path, LD_NO_MARK, NULL,
				 "the file is larger than the %d-byte policy limit; hint: check "
				 "the file name",
				 POLICY_MAX_BYTES);
		else
			diag_add(d, DIAG_ERROR, path, LD_NO_MARK, NULL,
				 "cannot read the policy: %s; hint: %s", strerror(err),
				 err == ENOENT ? "check the path (`agentcage policy default > "
						 "policy.yaml` writes a starting point)"
					       : "check the file's permissions");
		return -1;
	}
	return policy_load_buffer(path, buf, len, d, out);
}

int
policy_load_default(struct diag *d, struct policy **out)
{
	return policy_load_buffer("<default>", policy_default_yaml, policy_default_yaml_len,
				  d, out);
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	arena_free(&p->arena);
	free(p);
}
