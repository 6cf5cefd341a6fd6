//! The local time of day, for time stamps as tcpdump prints them: the C
//! library's `localtime_r`, which reads the system's zone (TZ or
//! /etc/localtime) with its daylight-saving rules, as every other tool does.

#![allow(unsafe_code)]

/// A moment's calendar date and time of day in the local zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// `seconds` since 1970 in the local zone; `None` if the C library cannot say.
pub fn local_time(seconds: i64) -> Option<LocalTime> {
    let time = seconds as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which outlives the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let result = unsafe { libc::localtime_r(&time, &mut tm) };
    if result.is_null() {
        return None;
    }
    Some(LocalTime {
        year: tm.tm_year + 1900,
        month: (tm.tm_mon + 1) as u8,
        day: tm.tm_mday as u8,
        hour: tm.tm_hour as u8,
        minute: tm.tm_min as u8,
        second: tm.tm_sec as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_is_a_valid_date_in_any_zone() {
        let t = local_time(0).unwrap();
        assert!(t.year == 1969 || t.year == 1970);
        assert!(t.hour < 24 && t.minute < 60 && t.second < 60);
    }
}
