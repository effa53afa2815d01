"""Background jobs: long work (an import, and any later bulk operation) taken off the request
path (the asynchronous request-reply pattern).

A request stores the job, with the file it carries, and answers 202 Accepted with the job's
Location; `flask --app service worker` processes, as many as are run, claim queued jobs and
run them; `GET /api/v1/jobs/{id}` shows the state, the rows done of the rows total, and the
report or the per-row errors.

How a job is run once and only once:
- Claim: a worker takes the oldest job that is queued, or running under a lease that has
  expired (its worker died), in a short transaction of its own: SELECT ... FOR UPDATE SKIP
  LOCKED on PostgreSQL, so workers never wait for each other; on SQLite the claim is a
  write transaction, which holds the database's write lock. The claim sets `claimed_by`,
  counts the attempt and sets the lease (`lease_expires_at`).
- Heartbeat: while the import runs in its own transaction (uncommitted, so invisible), the
  worker writes `rows_done` and extends the lease from a second session, in short
  transactions, at most every `progress_interval_seconds` (JobSettings). (On SQLite the
  import's transaction holds the one write lock, so nothing else can be written until it
  ends: there the progress shows at the start and at the end, and no other worker can
  claim the job meanwhile either.)
- Finish: the import's writes and the job's move to `succeeded` commit in ONE transaction,
  which first locks the job's row and checks that this worker's claim is still the job's
  latest. A worker that dies mid-import leaves nothing applied; once its lease expires
  another worker claims the job and runs it from the start; a worker that outlived its
  lease finds the job claimed again and rolls back. So the file is applied exactly once.
- Bound: a job claimed JOB_MAX_ATTEMPTS times without finishing (a file that kills its
  worker every time) is failed with a clear error instead of being tried forever.
"""
