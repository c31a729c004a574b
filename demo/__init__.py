"""Course material for the demo class: realistic answers to the assignments, as solution cells.

One module per assignment, `mistakes_<assignment id>.py`, exposing

    MISTAKES      {name: {grade_id: source}}  a realistic wrong answer (one solution cell)
    ALTERNATIVES  {name: {grade_id: source}}  every solution cell, correct in another style
    COMMON        names of the mistakes many students make (drawn more often)
    DEPENDS       {grade_id: {solution grade_ids}}  cells whose tests also fail when one of these
                  solution cells is wrong (a solution cell's id stands for all of its test cells)
    HOSTILE       {kind: solution grade_id or None}  the broken or hostile notebooks of the demo
                  class in this assignment (kinds: see demo.synthesize.HOSTILE_KINDS)
    SKIP          {name: why} mistakes the demo class leaves out (optional)

The sources are solution code: this folder is never part of the `autograder` package that
students install. tests/assignments/test_<assignment id>.py proves that the hidden tests fail
every mistake (with a diagnostic that names it) and pass every alternative;
`demo.synthesize` draws from both to write a realistic class of submissions.
"""
