-- Every row of marts.indicator_values has the unit its code has in the registry and a frequency
-- the registry publishes it at (e.g. a rate or a four-quarter ratio never appears as Q).

select
    indicator_values.indicator_code,
    indicator_values.unit,
    indicator_values.freq,
    registry.unit as registry_unit,
    registry.frequencies
from {{ ref('indicator_values') }} as indicator_values
inner join {{ ref('indicator_registry') }} as registry
    on registry.indicator_code = indicator_values.indicator_code
where indicator_values.unit <> registry.unit
    or position(indicator_values.freq in registry.frequencies) = 0
