//! The host and addressing lookups: one answer per query, the failures on
//! stderr, exit 1 when any failed.

use sockit::Result;
use sockit::addr::{self, Services};
use sockit::output::report::print_all;

use crate::cli::{
    HostnameArgs, IpArgs, OutputArgs, ResolveArgs, ReverseArgs, RouteArgs, ServiceArgs,
};

pub fn hostname(args: HostnameArgs) -> i32 {
    print_all([addr::host_name(args.fqdn)], args.output.json)
}

pub fn resolve(args: ResolveArgs) -> i32 {
    let family = args.family.family();
    let answers = args.names.iter().map(|name| addr::lookup(name, family));
    print_all(answers, args.output.json)
}

pub fn reverse(args: ReverseArgs) -> i32 {
    let answers = args.addresses.iter().map(|a| addr::reverse(a));
    print_all(answers, args.output.json)
}

pub fn service(args: ServiceArgs) -> i32 {
    let services = Services::load();
    if args.verbose {
        eprintln!("{}", services.origin());
    }
    let proto = args.proto.as_deref();
    let answers = args.queries.iter().map(|q| services.lookup(q, proto));
    print_all(answers, args.output.json)
}

pub fn ifaces(output: OutputArgs) -> Result<i32> {
    let interfaces = addr::interfaces()?;
    Ok(print_all(interfaces.into_iter().map(Ok), output.json))
}

pub fn ip(args: IpArgs) -> i32 {
    let answers = args.addresses.iter().map(|a| addr::analyse(a));
    print_all(answers, args.output.json)
}

pub fn route(args: RouteArgs) -> i32 {
    let family = args.family.family();
    let answers = args.hosts.iter().map(|host| {
        let address = addr::resolve(host, 0, family)?
            .first()
            .map(std::net::SocketAddr::ip)
            .ok_or_else(|| sockit::Error::UnknownHost {
                host: host.clone(),
                detail: "no address".into(),
            })?;
        addr::route_to(address)
    });
    print_all(answers, args.output.json)
}
