//! Docker's filters as the CLI gives them (`--filter k=v`) and as the API does (the
//! `filters` query parameter, in its list and its older map form), and their errors.

use berth_engine::service::Filters;
use berth_engine::Error;

fn cli(args: &[&str]) -> berth_engine::Result<Filters> {
    Filters::from_cli(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn cli_filters_split_at_the_first_equals_and_gather_values_of_one_key() {
    let f = cli(&["label=a=b", "status=running", "label=c", "label=a=b"]).unwrap();
    assert_eq!(f.get("label"), ["a=b", "c"]);
    assert_eq!(f.get("status"), ["running"]);
    assert!(f.get("name").is_empty());
    assert_eq!(f.keys().collect::<Vec<_>>(), ["label", "status"]);
}

#[test]
fn a_cli_filter_without_a_value_is_an_invalid_argument() {
    let err = cli(&["status"]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "bad format of filter (expected name=value): status"
    );
}

#[test]
fn api_filters_accept_the_list_form_and_the_older_map_form() {
    let list = Filters::from_api_json(r#"{"label":["a=b","c"],"status":["exited"]}"#).unwrap();
    assert_eq!(list.get("label"), ["a=b", "c"]);
    assert_eq!(list.get("status"), ["exited"]);
    let map =
        Filters::from_api_json(r#"{"label":{"a=b":true,"off":false},"status":{"exited":true}}"#)
            .unwrap();
    assert_eq!(
        map.get("label"),
        ["a=b"],
        "a value mapped to false is not given"
    );
    assert_eq!(map.get("status"), ["exited"]);
}

#[test]
fn an_empty_api_filters_parameter_means_no_filter() {
    assert!(Filters::from_api_json("").unwrap().is_empty());
    assert!(Filters::from_api_json("{}").unwrap().is_empty());
}

#[test]
fn malformed_api_filters_are_invalid_arguments() {
    for bad in [
        "{",
        "[]",
        r#"{"label":"a"}"#,
        r#"{"label":[1]}"#,
        r#"{"label":{"a":"yes"}}"#,
    ] {
        let err = Filters::from_api_json(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{bad}: {err:?}");
    }
}

#[test]
fn validate_names_the_unknown_key_as_docker_does() {
    let f = cli(&["status=running", "color=red"]).unwrap();
    let err = f.validate(&["status", "label"]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert_eq!(err.to_string(), "invalid filter 'color'");
    f.validate(&["status", "color"]).unwrap();
}
