//! The page's template (templates/report.html, shipped inside the crate) and its rendering.

use minijinja::Environment;

use crate::ReportError;
use crate::page::Page;

const TEMPLATE: &str = include_str!("../templates/report.html");

/// Renders `page` through the template; HTML is escaped except the values marked safe there
/// (the SVG plots and the `data:` URIs, which the crate makes itself).
pub fn render(page: &Page) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE).map_err(|e| ReportError::Template(e.to_string()))?;
    let template = env.get_template("report.html").map_err(|e| ReportError::Template(e.to_string()))?;
    template.render(page).map_err(|e| ReportError::Template(format!("{e:#}")))
}
