"""Reference data of the needs app: service areas, channels and time limits."""

from apps.core.seeding import Column, TableSpec, boolean, choice, integer, register_reference

from .models import Channel, Need, ServiceArea, TimeLimit

register_reference(
    TableSpec(
        "reference/service_areas.csv",
        ServiceArea,
        key=("code",),
        columns=(
            Column("code"),
            Column("name"),
            Column("description", required=False),
            Column("order", integer),
        ),
    )
)

register_reference(
    TableSpec(
        "reference/channels.csv",
        Channel,
        key=("code",),
        columns=(
            Column("code"),
            Column("name"),
            Column("is_online", boolean),
            Column("order", integer),
        ),
    )
)


register_reference(
    TableSpec(
        "reference/time_limits.csv",
        TimeLimit,
        key=("stage", "kind", "urgency"),
        columns=(
            Column("stage", choice(TimeLimit.Stage)),
            Column("kind", choice(Need.Kind), required=False),
            Column("urgency", choice(Need.Urgency), required=False),
            Column("working_days", integer),
        ),
    )
)
