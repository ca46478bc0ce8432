//! Measurement sets through the real router, on SQLite and PostgreSQL.

mod common;

use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;

backend_tests!(the_measurement_catalogue_is_public);

async fn the_measurement_catalogue_is_public(app: TestApp) {
    let res = app.api("GET", "/api/v1/measurements", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let list = res.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 38);
    assert_eq!(list[0], json!({ "name": "ankle", "unit": "mm", "description": "Circumference around the ankle, over the ankle bone", "max": 5000.0 }));
    let slope = list.iter().find(|m| m["name"] == "shoulderSlope").unwrap();
    assert_eq!((slope["unit"].as_str(), slope["max"].as_f64()), (Some("deg"), Some(90.0)));
}
