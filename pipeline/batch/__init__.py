"""Batch verification of an archive: many clips in, one JSON line per clip out.

`inputs` finds the clips (folders, files, manifests), `journal` writes results and knows what a
rerun may skip, `work` scores one clip in a worker, and two runners spread the work:
`local` (a process pool, the default; imports no Ray) and `ray_runner` (an actor pool on local
Ray or a cluster).
"""
