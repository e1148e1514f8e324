def test_build(rich, get_started, loom):
    print(rich, get_started)
    r = loom("import-dvc", cwd=rich)
    print(r.stdout, r.stderr)
    r = loom("import-dvc", cwd=get_started)
    print(r.stdout, r.stderr)
    assert 0
