export { AUDIT_PAGE_PREFIX, auditPage, PAGE_CONTENT_SECURITY_POLICY, staticPage, type PageHandler, type StaticPageOptions } from './lib/static-page';
