//! The lists of microphones and cameras as they change while the page is open (a headset
//! plugged in mid-call, a webcam taken out): what the person is told.

/// A device as `enumerateDevices` lists it: `(device id, label)`.
pub type Device = (String, String);

/// What to tell the person about the devices of `kind` ("microphone", "camera") in `now` that
/// were not in `before`, if anything. Nothing while `before` is empty: before the browser
/// allowed a device it lists none by name, so every device would look new.
pub fn devices_added(kind: &str, before: &[Device], now: &[Device]) -> Option<String> {
    if before.is_empty() {
        return None;
    }
    let added: Vec<&str> = now
        .iter()
        .filter(|(id, _)| !before.iter().any(|(known, _)| known == id))
        .map(|(_, label)| label.trim())
        .collect();
    match added.as_slice() {
        [] => None,
        [""] => Some(format!("A new {kind} was plugged in: choose it under Devices.")),
        [label] => Some(format!("A new {kind} was plugged in ({label}): choose it under Devices.")),
        more => {
            Some(format!("{} new {kind}s were plugged in: choose one under Devices.", more.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices(list: &[(&str, &str)]) -> Vec<Device> {
        list.iter().map(|(id, label)| (id.to_string(), label.to_string())).collect()
    }

    #[test]
    fn a_device_plugged_in_is_named_once() {
        let before = devices(&[("a", "Built-in Microphone")]);
        let now = devices(&[("a", "Built-in Microphone"), ("h", "USB Headset")]);
        assert_eq!(
            devices_added("microphone", &before, &now).as_deref(),
            Some("A new microphone was plugged in (USB Headset): choose it under Devices.")
        );
        assert_eq!(devices_added("microphone", &now, &now), None, "nothing new the next time");
    }

    #[test]
    fn devices_that_go_or_are_renamed_are_nothing_new() {
        let before = devices(&[("a", "Built-in"), ("h", "USB Headset")]);
        assert_eq!(devices_added("camera", &before, &devices(&[("a", "Built-in")])), None);
        assert_eq!(devices_added("camera", &before, &devices(&[("a", "Default - X")])), None);
    }

    #[test]
    fn several_at_once_or_without_a_label_are_said_plainly() {
        let before = devices(&[("a", "Built-in")]);
        let now = devices(&[("a", "Built-in"), ("b", "One"), ("c", "Two")]);
        assert_eq!(
            devices_added("camera", &before, &now).as_deref(),
            Some("2 new cameras were plugged in: choose one under Devices.")
        );
        let unnamed = devices(&[("a", "Built-in"), ("b", " ")]);
        assert_eq!(
            devices_added("camera", &before, &unnamed).as_deref(),
            Some("A new camera was plugged in: choose it under Devices.")
        );
    }

    #[test]
    fn the_first_list_tells_nothing() {
        assert_eq!(devices_added("camera", &[], &devices(&[("a", "Built-in")])), None);
    }
}
