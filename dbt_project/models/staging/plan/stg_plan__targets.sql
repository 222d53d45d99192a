-- Every row of every plan version, 1:1 with raw.plan_targets.

with

source as (

    select * from {{ source('plan', 'plan_targets') }}

),

renamed as (

    select
        cast(version as integer) as plan_version,
        cast(row_number as integer) as row_number,
        cast(objective_id as varchar) as objective_id,
        cast(objective_es as varchar) as objective_es,
        cast(objective_en as varchar) as objective_en,
        cast(objective_fr as varchar) as objective_fr,
        cast(aim as integer) as aim,
        cast(indicator as varchar) as indicator,
        cast(ref_area as varchar) as ref_area,
        cast(direction as varchar) as direction,
        cast(baseline_period as varchar) as baseline_period,
        cast(baseline_value as double) as baseline_value,
        cast(target_period as varchar) as target_period,
        cast(target_value as double) as target_value,
        cast(milestones as varchar) as milestones,
        cast(responsible as varchar) as responsible,
        cast(comment as varchar) as comment
    from source

)

select * from renamed
