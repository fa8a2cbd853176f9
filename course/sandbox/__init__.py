"""Where a learner's code is confined while it is graded.

* :mod:`.detect` — what this machine offers (bubblewrap as root or as a normal user,
  cgroups), and the fix when it offers nothing;
* :mod:`.network` — a network namespace of the submission's own, loopback only;
* :mod:`.bwrap`, :mod:`.binds`, :mod:`.agent` — one sandbox: its command line, what it
  may read, and the trusted PID 1 inside;
* :mod:`.jail` — every sandbox of one submission, and the kernel manager that starts
  its notebook's kernel in one;
* :mod:`.limits` — memory, process and disk limits, and the verdict when one is hit;
* :mod:`.fs` — the grader's own file access in a workspace, never through a link.
"""
