//! What every handlebars registry in Accord shares (DPIA documents, emails): conditionals that
//! fail on a missing variable, so a typo in a template is an error rather than a silent gap.

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonTruthy, Output, RenderContext,
    RenderErrorReason, Renderable,
};

/// Replaces `{{#if}}` and `{{#unless}}` with their strict versions.
pub fn strict_conditionals(registry: &mut Handlebars<'_>) {
    registry.register_helper("if", Box::new(StrictIf { positive: true }));
    registry.register_helper("unless", Box::new(StrictIf { positive: false }));
}

/// `{{#if}}` and `{{#unless}}` as handlebars has them, except that a missing variable is an
/// error. Handlebars' strict mode checks `{{x}}` and `{{#each x}}` but lets a helper's missing
/// argument through, so `{{#if titel}}` would silently drop a section of the DPIA.
struct StrictIf {
    positive: bool,
}

impl HelperDef for StrictIf {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = if self.positive { "if" } else { "unless" };
        let param = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(name, 0))?;
        if param.is_value_missing() {
            let path = param.relative_path().cloned();
            return Err(RenderErrorReason::MissingVariable(path).into());
        }
        let truthy = param.value().is_truthy(false);
        let branch = if truthy == self.positive {
            h.template()
        } else {
            h.inverse()
        };
        match branch {
            Some(t) => t.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}
