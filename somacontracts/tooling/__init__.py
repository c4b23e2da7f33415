"""The tooling half: what CI and developers run (checks, code generation, the local
registry, docs, monitoring rules, the console, the local stack, the testing kit and the
command line). Services never import it at run time."""
