-- The plan in force: the targets of the newest accepted plan version (a version with ERROR
-- findings is kept in raw but never used). An objective's texts are those of its first row in
-- the file (the import warns, P12, when later rows differ).

with

versions as (

    select * from {{ ref('stg_plan__versions') }}

),

targets as (

    select * from {{ ref('stg_plan__targets') }}

),

current_version as (

    select
        plan_version,
        imported_at,
        is_illustrative
    from versions
    where status = 'accepted'
    order by plan_version desc
    limit 1

),

final as (

    select
        targets.plan_version,
        current_version.imported_at as plan_imported_at,
        current_version.is_illustrative as plan_is_illustrative,
        targets.row_number,
        targets.objective_id,
        first_value(targets.objective_es) over objective as objective_es,
        first_value(targets.objective_en) over objective as objective_en,
        first_value(targets.objective_fr) over objective as objective_fr,
        targets.aim,
        targets.indicator,
        targets.ref_area,
        targets.direction,
        targets.baseline_period,
        targets.baseline_value,
        targets.target_period,
        targets.target_value,
        targets.milestones,
        targets.responsible,
        targets.comment
    from targets
    inner join current_version
        on targets.plan_version = current_version.plan_version
    window objective as (partition by targets.objective_id order by targets.row_number)

)

select * from final
