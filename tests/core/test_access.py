from chargenet.core.access import ANONYMOUS, Principal, Role


def test_a_regulator_sees_only_its_jurisdiction() -> None:
    xinzhou = Principal(name="xz", role=Role.REGULATOR, area_code="140900")
    assert xinzhou.sees_area("140902100201")  # a village of Xinfu District
    assert not xinzhou.sees_area("450202")  # Liuzhou
    assert not xinzhou.sees_area(None)  # unplaced stations belong to the province's staff
    assert Principal(name="sx", role=Role.REGULATOR).sees_area("450202")


def test_an_operator_sees_only_itself_and_the_public_nothing() -> None:
    op = Principal(name="op", role=Role.OPERATOR, operator_id="XZ-JB")
    assert op.sees_operator("XZ-JB")
    assert not op.sees_operator("XZ-WT")
    assert not op.sees_area("140900")
    assert not ANONYMOUS.sees_operator("XZ-JB")
