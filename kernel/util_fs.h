/* Small filesystem helpers. */
#ifndef KN_UTIL_FS_H
#define KN_UTIL_FS_H

/* mkdir -p with mode 0755; 0 on success (also when it exists), -1 with errno. */
int kn_mkdir_p(const char *dir);

#endif
