"""The instructor's side: the course directory, release and validation,
collecting, grading records, feedback pages and grade exports. Runs in the
trusted coordinator process, never in a student's kernel."""
