// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the few inline-only or macro kernel APIs procperf's Rust code needs,
 * like the kernel's own rust/helpers/. Each one only forwards a call: no logic lives in C.
 * They are declared for Rust once, in sys/mod.rs.
 */
#include <linux/cgroup.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>
#include <linux/utsname.h>

void procperf_rcu_read_lock(void);
void procperf_rcu_read_unlock(void);
const char *procperf_kernel_release(void);
void procperf_set_current_interruptible(void);
void procperf_set_current_running(void);
void procperf_cond_resched(void);
void procperf_tracepoint_synchronize_unregister(void);
long procperf_file_count(struct file *file);
u64 procperf_task_dfl_cgroup_id(struct task_struct *task);
struct dentry *procperf_debugfs_create_file(const char *name, umode_t mode, struct dentry *parent,
					    void *data, const struct file_operations *fops,
					    bool proxied);

void procperf_rcu_read_lock(void)
{
	rcu_read_lock();
}

void procperf_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

const char *procperf_kernel_release(void)
{
	return init_utsname()->release;
}

void procperf_set_current_interruptible(void)
{
	set_current_state(TASK_INTERRUPTIBLE);
}

void procperf_set_current_running(void)
{
	__set_current_state(TASK_RUNNING);
}

void procperf_cond_resched(void)
{
	cond_resched();
}

void procperf_tracepoint_synchronize_unregister(void)
{
	tracepoint_synchronize_unregister();
}

long procperf_file_count(struct file *file)
{
	return (long)file_count(file);
}

/* Under rcu_read_lock(): the id of the task's cgroup in the cgroup v2 hierarchy (0 without cgroups). */
u64 procperf_task_dfl_cgroup_id(struct task_struct *task)
{
#ifdef CONFIG_CGROUPS
	return cgroup_id(task_dfl_cgroup(task));
#else
	return 0;
#endif
}

/* proxied: debugfs wraps the callbacks to guard against removal (no ->flush); else unproxied. */
struct dentry *procperf_debugfs_create_file(const char *name, umode_t mode, struct dentry *parent,
					    void *data, const struct file_operations *fops,
					    bool proxied)
{
	if (proxied)
		return debugfs_create_file(name, mode, parent, data, fops);
	return debugfs_create_file_unsafe(name, mode, parent, data, fops);
}
