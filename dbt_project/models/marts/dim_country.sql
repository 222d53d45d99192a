with

countries as (

    select * from {{ ref('countries') }}

),

final as (

    select
        iso3,
        iso2,
        m49,
        name_es,
        name_en,
        name_fr,
        member,
        observer,
        m49_subregion
    from countries

)

select * from final
