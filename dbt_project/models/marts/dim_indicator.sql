-- The indicator registry (seeds/indicator_registry.csv), published beside the values so the
-- dashboard and exports take names, definitions, units and caveats from one place.

with

registry as (

    select * from {{ ref('indicator_registry') }}

),

final as (

    select
        cast(indicator_code as varchar) as indicator_code,
        cast(family as integer) as family,
        cast(dataset as varchar) as dataset,
        cast(name_es as varchar) as name_es,
        cast(name_en as varchar) as name_en,
        cast(name_fr as varchar) as name_fr,
        cast(definition_es as varchar) as definition_es,
        cast(definition_en as varchar) as definition_en,
        cast(definition_fr as varchar) as definition_fr,
        cast(formula_es as varchar) as formula_es,
        cast(formula_en as varchar) as formula_en,
        cast(formula_fr as varchar) as formula_fr,
        cast(unit as varchar) as unit,
        cast(numerator as varchar) as numerator,
        cast(denominator as varchar) as denominator,
        cast(sdg_series as varchar) as sdg_series,
        cast(caveat_key as varchar) as caveat_key,
        cast(caveat_es as varchar) as caveat_es,
        cast(caveat_en as varchar) as caveat_en,
        cast(caveat_fr as varchar) as caveat_fr,
        cast(disclosure_rule as varchar) as disclosure_rule,
        cast(frequencies as varchar) as frequencies
    from registry

)

select * from final
